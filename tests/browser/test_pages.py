"""The pages in a real browser: sign-in (TOTP, passkey), a person's record, four eyes,
the security console's containment, the citizen's access log.

Each scenario drives Chromium against ``rempart serve`` (see conftest.py) as the people who use
Rempart would, and saves screenshots of the pages it goes through.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import Demo, pass_step_up, shot, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CSP_SCRIPT = re.compile(r"script-src ([^;]*)")


def assert_security_headers(headers: dict[str, str]) -> None:
    """ASVS V3.4.3-V3.4.6, V14.3.2: the headers every page carries."""
    csp = headers["content-security-policy"]
    scripts = CSP_SCRIPT.search(csp)
    assert scripts is not None
    assert scripts.group(1).split() == ["'self'"]
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in headers  # plain HTTP on loopback (--insecure-http)


def test_sign_in_with_totp(demo: Demo, new_context: Any) -> None:
    """Password then the TOTP code open a session whose cookie scripts cannot read.

    ASVS V6.3.3 (two factors), V3.3.2 and V3.3.4 (SameSite=Strict, HttpOnly), V3.4.3 (CSP).
    """
    agent = demo.agent("training_body", "training_manager")
    page = new_context().new_page()
    problems = watch(page)
    response = page.goto("/")
    assert response is not None
    assert_security_headers(response.headers)
    assert page.locator("html").get_attribute("lang") == "fr"
    # A wrong password: a French message on the same page, no session.
    page.get_by_label("Identifiant").fill(agent["login"])
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_text("Identifiant ou mot de passe incorrect.").wait_for()
    sign_in(page, demo, agent, screenshots="portail")
    page.get_by_role("heading", name=f"Bonjour {agent['login']}").wait_for()
    shot(page, "portail-accueil")
    cookie = next(c for c in page.context.cookies() if c["name"] == "rempart_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("rempart_session") == -1
    # The skip link is the first thing the keyboard reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_text("Vous êtes déconnecté").wait_for()
    assert not [c for c in page.context.cookies() if c["name"] == "rempart_session"]
    assert problems == []


def test_register_then_sign_in_with_a_passkey(demo: Demo, new_context: Any) -> None:
    """A passkey registered on the security page signs the agent in, without any code.

    Chromium's virtual authenticator (CDP WebAuthn domain) plays a platform authenticator with
    user verification. ASVS V6.3.3 (phishing-resistant factor), V6.5.x (key registration).
    """
    agent = demo.agent("mission_locale", "advisor")
    context = new_context()
    page = context.new_page()
    problems = watch(page)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_in(page, demo, agent)
    page.get_by_role("link", name="Sécurité du compte").first.click()
    page.get_by_text("Aucune clé d'accès n'est enregistrée.").wait_for()
    page.get_by_label("Nom de la clé").fill("Navigateur de test")
    # A new code of the app proves this very change (the sign-in's freshness does not).
    page.get_by_label("Code à 6 chiffres de votre application").first.fill(demo.code(agent))
    page.get_by_role("button", name="Ajouter une clé d'accès").click()
    page.wait_for_url(re.compile(r".*/compte/securite\?ok=cle_ajoutee$"))
    page.get_by_role("cell", name="Navigateur de test").wait_for()
    shot(page, "portail-securite-cle")

    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_label("Identifiant").fill(agent["login"])
    page.get_by_label("Mot de passe").fill(agent["password"])
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Utiliser ma clé d'accès").click()
    page.wait_for_url(re.compile(r".*/accueil$"))
    page.get_by_role("link", name="Sécurité du compte").first.click()
    page.get_by_role("cell", name="password+webauthn").wait_for()
    assert problems == []


def test_training_manager_works_with_their_trainees(demo: Demo, new_context: Any) -> None:
    """Trainings, attendance, enrolment by exact lookup, portfolio, and a person's record with
    only the fields the declared purpose allows.

    ASVS V8.2.1 and V8.2.2 (function- and data-level access), V14.2.6 (minimum data).
    """
    agent = demo.agent("training_body", "training_manager")
    page = new_context().new_page()
    problems = watch(page)
    sign_in(page, demo, agent)

    page.get_by_role("link", name="Mes formations").first.click()
    pass_step_up(page, demo, agent)
    shot(page, "portail-formations")
    running = demo.rows(
        "SELECT id, title FROM trainings WHERE org_id = ? AND end_date >= date('now') "
        "AND start_date <= date('now') "
        "ORDER BY start_date LIMIT 1",
        agent["org_id"],
    )
    assert running, "the seed gives every training body a running training"
    training_id, title = running[0]
    page.get_by_role("link", name=title).click()
    pass_step_up(page, demo, agent)
    page.get_by_role("heading", name=title).wait_for()

    # Enrolment by exact lookup: a wrong birth date and an unknown person answer alike.
    ft_id, birth_date = demo.rows(
        "SELECT ft_id, birth_date FROM persons WHERE NOT is_canary AND id NOT IN "
        "(SELECT person_id FROM enrolments WHERE training_id = ?) ORDER BY id LIMIT 1",
        training_id,
    )[0]
    form = page.locator("#inscription")
    form.get_by_label("Identifiant France Travail").fill(ft_id)
    form.get_by_label("Date de naissance").fill("1900-01-01")
    form.get_by_role("button", name="Inscrire").click()
    page.get_by_text("Aucune personne ne correspond").wait_for()
    form.get_by_label("Identifiant France Travail").fill(ft_id)
    form.get_by_label("Date de naissance").fill(birth_date)
    form.get_by_role("button", name="Inscrire").click()
    pass_step_up(page, demo, agent)
    page.get_by_text("La personne est inscrite à la formation.").wait_for()
    page.get_by_role("cell", name=ft_id).wait_for()
    shot(page, "portail-formation")

    # Attendance of the first session.
    page.locator("a[href^='/seances/']").first.click()
    pass_step_up(page, demo, agent)
    radio = page.locator(f"input[name='presence_{ft_id}'][value='present']")
    radio.check()
    page.get_by_role("button", name="Enregistrer les présences").click()
    page.get_by_text("Les présences sont enregistrées.").wait_for()
    assert page.locator(f"input[name='presence_{ft_id}'][value='present']").is_checked()
    shot(page, "portail-presences")

    # The portfolio, then one person, for the usual purpose and for enrolment.
    page.get_by_role("link", name="Mon portefeuille").first.click()
    pass_step_up(page, demo, agent)
    page.get_by_role("heading", name="Mon portefeuille").wait_for()
    shot(page, "portail-portefeuille")
    page.goto(f"/personnes/{ft_id}")  # the new trainee may be on another page of the list
    pass_step_up(page, demo, agent)
    page.get_by_text("Finalité déclarée : Suivi de la formation.").wait_for()
    record = page.locator("main")
    # Enrolled from the exact lookup: no contact data until the person confirms (issue 15).
    assert record.get_by_text("Courriel").count() == 0
    assert record.get_by_text("NIR").count() == 0  # never to a training body
    shot(page, "portail-personne")
    page.get_by_label("Changer de finalité").select_option("enrolment")
    page.get_by_role("button", name="Consulter pour cette finalité").click()
    pass_step_up(page, demo, agent)
    page.get_by_text("Finalité déclarée : Inscription en formation.").wait_for()
    assert record.get_by_text("Courriel").count() == 0  # not needed to enrol someone
    assert problems == []


def test_four_eyes_account_request(demo: Demo, new_context: Any) -> None:
    """One account manager requests an account, a second one approves it; the requester never
    sees an approve button on their own request. ASVS V8.2.3 (four eyes), V16.3.3 (events)."""
    requester = demo.agent("agency", "account_manager")
    approver = demo.agent("agency", "account_manager", org_id=requester["org_id"])
    login = "essai.navigateur"
    email = "essai.navigateur@agence.example"

    page = new_context().new_page()
    sign_in(page, demo, requester)
    page.get_by_role("link", name="Comptes").first.click()
    page.get_by_label("Identifiant", exact=False).first.fill(login)
    page.get_by_label("Courriel professionnel").fill(email)
    page.get_by_label("Conseiller").check()
    page.get_by_role("button", name="Envoyer la demande").click()
    pass_step_up(page, demo, requester)
    page.get_by_text("La demande est enregistrée").wait_for()
    row = page.get_by_role("row").filter(has_text=login)
    assert row.get_by_role("button", name=re.compile("^Approuver")).count() == 0
    shot(page, "demandes-auteur")

    other = new_context().new_page()
    mails = len(demo.inbox.messages)
    sign_in(other, demo, approver)
    other.get_by_role("link", name="Demandes").first.click()
    row = other.get_by_role("row").filter(has_text=login)
    row.get_by_role("button", name=re.compile("^Approuver")).click()
    pass_step_up(other, demo, approver)
    other.get_by_text("La demande est approuvée").wait_for()
    shot(other, "demandes-approbation")
    link = demo.inbox.wait_for(email, after=mails)
    assert "/enrol?token=" in link.get_content()


def test_security_officer_sees_an_alert_live_and_contains_it(demo: Demo, new_context: Any) -> None:
    """A partner touches a canary record; the alert appears in the console's live feed without
    reloading; the officer reads its explanation and suspends the organisation's app.

    ASVS V16.3.2 and V16.3.3 (security events reach the team), V7.4.5 (sessions ended).
    """
    officer = demo.agent("agency", "security_officer")
    partner = demo.agent("training_body", "training_manager")
    console = new_context().new_page()
    problems = watch(console)
    sign_in(console, demo, officer)
    console.get_by_role("link", name="Console sécurité").first.click()
    console.get_by_role("heading", name="Alertes en direct").wait_for()

    canary = demo.rows("SELECT ft_id FROM persons WHERE is_canary ORDER BY id LIMIT 1")[0][0]
    thief = new_context().new_page()
    sign_in(thief, demo, partner)
    answer = thief.goto(f"/personnes/{canary}")
    # The partner learns nothing (the page of an unknown person) and the session is over.
    assert answer is not None
    assert answer.status == 404
    thief.get_by_role("heading", name="Page ou dossier introuvable").wait_for()
    answer = thief.goto("/portefeuille")
    assert answer is not None
    assert answer.status == 401
    thief.get_by_role("heading", name="Votre session a été fermée").wait_for()
    shot(thief, "portail-session-fermee")

    # The feed polls every few seconds: the alert shows up without a reload.
    feed_row = console.locator("#flux tr").filter(has_text=partner["login"]).first
    feed_row.wait_for(timeout=20_000)
    shot(console, "console-flux")
    feed_row.get_by_role("link").first.click()
    console.get_by_role("heading", name=re.compile("Dossier leurre consulté")).wait_for()
    console.get_by_text("verrouillé").first.wait_for()  # the guard already locked it
    shot(console, "console-alerte")
    console.get_by_role("button", name=re.compile("^Suspendre l'application")).click()
    console.get_by_text("L'application est suspendue pour cette organisation.").wait_for()
    assert console.get_by_text("suspendue", exact=True).count() >= 1
    console.get_by_role("button", name=re.compile("^Fermer les sessions")).click()
    console.get_by_text("Les sessions de l'agent sont fermées.").wait_for()
    shot(console, "console-confinement")

    console.get_by_role("link", name="Comptes à privilèges").click()
    console.get_by_role("cell", name=officer["login"]).wait_for()
    shot(console, "console-comptes-privilegies")
    console.get_by_role("link", name="Statistiques").click()
    console.locator("figure.chart svg").first.wait_for()
    shot(console, "console-statistiques")
    assert problems == []


def test_citizen_reads_who_consulted_their_file(demo: Demo, new_context: Any) -> None:
    """A person proves who they are with their identifier, birth date and a mailed code, sees
    the training body's consultation, and flags it. ASVS V6.6.x (out-of-band code)."""
    agent = demo.agent("training_body", "training_manager")
    person, birth_date, email = demo.rows(
        "SELECT p.ft_id, p.birth_date, p.email FROM persons p JOIN enrolments e "
        "ON e.person_id = p.id WHERE e.org_id = ? AND e.end_date >= date('now') "
        "AND e.start_date <= date('now') "
        "AND NOT p.is_canary ORDER BY p.id LIMIT 1",
        agent["org_id"],
    )[0]
    org_name = demo.rows("SELECT name FROM organisations WHERE id = ?", agent["org_id"])[0][0]
    staff = new_context().new_page()
    sign_in(staff, demo, agent)
    staff.goto(f"/personnes/{person}")
    pass_step_up(staff, demo, agent)
    staff.get_by_text("Finalité déclarée").wait_for()

    page = new_context().new_page()
    problems = watch(page)
    page.goto("/citoyen")
    shot(page, "citoyen-identification")
    mails = len(demo.inbox.messages)
    page.get_by_label("Identifiant France Travail").fill(person)
    page.get_by_label("Date de naissance").fill(birth_date)
    page.get_by_role("button", name="Recevoir mon code").click()
    page.get_by_role("heading", name="Saisissez votre code").wait_for()
    message = demo.inbox.wait_for(email, after=mails)
    code = re.search(r"\b(\d{6})\b", message.get_content())
    assert code is not None
    page.get_by_label("Code reçu par courriel").fill(code.group(1))
    page.get_by_role("button", name="Voir les accès à mon dossier").click()
    page.get_by_role("heading", name="Les accès à votre dossier").wait_for()
    row = page.get_by_role("row").filter(has_text="Consultation de votre dossier").first
    assert org_name in row.inner_text()
    assert "Suivi de la formation" in row.inner_text()
    shot(page, "citoyen-acces")
    row.get_by_role("button", name=re.compile("Je ne reconnais pas cet accès")).click()
    page.get_by_text("Votre signalement est transmis").wait_for()
    page.get_by_role("button", name="Me déconnecter").click()
    page.get_by_role("heading", name="Qui a consulté mon dossier ?").wait_for()
    assert problems == []
