"""The pages over HTTP (no browser): CSRF on every form, cookies, step-up replay, error pages,
security headers, and the absence of inline script that the CSP would have to allow.

ASVS 5.0 requirement ids are named per test; tests/browser/ drives the same pages in Chromium.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel import errors
from rempart.kernel.clock import ManualClock
from rempart.web.app import create_app
from rempart.web.ui.routing import HtmlRoute, safe_next
from tests.factories import World, standard_world
from tests.support.signin import Account, auth_settings, client_for, give_credentials, totp_code

UI = Path(__file__).resolve().parents[2] / "src" / "rempart" / "web" / "ui"
TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
CHALLENGE = re.compile(r'name="challenge" value="([^"]*)"')


@pytest.fixture
def box(tmp_path: Path, clock: ManualClock, journal: MemoryJournal) -> Iterator[Container]:
    """SQLite only: the pages add nothing database-specific to what the API tests cover."""
    from rempart.db.migrate import upgrade

    db_url = f"sqlite:///{tmp_path}/rempart.db"
    upgrade(db_url)
    c = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    yield c
    c.close()


@pytest.fixture
def world(box: Container) -> World:
    return standard_world(box.engine)


@pytest.fixture
def app(box: Container, world: World) -> FastAPI:
    return create_app(box.settings, container=box)


def token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, account: Account, clock: ManualClock) -> str:
    """Through the forms; returns the session's CSRF token as the pages carry it."""
    form = token(client.get("/").text)
    page = client.post(
        "/connexion",
        data={"csrf_token": form, "login": account.login, "password": account.password},
    )
    assert page.status_code == 200, page.text
    challenge = CHALLENGE.search(page.text)
    assert challenge
    done = client.post(
        "/connexion/code",
        data={
            "csrf_token": form,
            "challenge": challenge.group(1),
            "code": totp_code(account, clock),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return token(client.get("/compte/securite").text)


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    """Nothing the strict CSP would block, or would have to be loosened for.

    ASVS V3.4.3 (CSP without unsafe-inline), V3.2.2 (text set with textContent, never HTML).
    """
    offenders = []
    for path in (UI / "templates").rglob("*.html"):
        markup = path.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",  # an inline script block
            r"\son[a-z]+\s*=",  # an inline event handler
            r"\sstyle\s*=",  # an inline style attribute
            r"<style",
            r"javascript:",
        ):
            if re.search(pattern, markup, re.IGNORECASE):
                offenders.append(f"{path.name}: {pattern}")
    for path in (UI / "static" / "js").rglob("*.js"):
        script = path.read_text(encoding="utf-8")
        if re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script):
            offenders.append(f"{path.name}: builds HTML or code from strings")
    assert offenders == []


def test_every_post_form_carries_a_csrf_token() -> None:
    """ASVS V3.5.1: every state-changing form is bound to the session (or the pre-session)."""
    missing, seen = [], 0
    for path in (UI / "templates").rglob("*.html"):
        markup = path.read_text(encoding="utf-8")
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", markup, re.S | re.I):
            seen += 1
            if 'name="csrf_token"' not in form:
                missing.append(path.name)
    assert seen >= 20  # the pages' forms were found at all
    assert missing == []


def test_sign_in_through_the_forms_sets_strict_cookies(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """Password then code; the pre-session and session cookies are HttpOnly, SameSite=Strict,
    Secure, and the pre-session one is ``__Host-`` prefixed.

    ASVS V3.3.1, V3.3.2, V3.3.3, V3.3.4, V6.3.3.
    """
    account = give_credentials(box.engine, "tm.dupont")
    client = client_for(app)
    first = client.get("/")
    assert first.status_code == 200
    presession = first.headers["set-cookie"]
    assert presession.startswith("__Host-rempart_presession=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag in presession
    form = token(first.text)
    # A password alone never opens a session: the answer is the second-factor page.
    page = client.post(
        "/connexion",
        data={"csrf_token": form, "login": account.login, "password": account.password},
    )
    assert "rempart_session" not in client.cookies
    challenge = CHALLENGE.search(page.text)
    assert challenge
    done = client.post(
        "/connexion/code",
        data={
            "csrf_token": form,
            "challenge": challenge.group(1),
            "code": totp_code(account, clock),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/accueil"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("rempart_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict"):
        assert flag in cookie
    home = client.get("/accueil")
    assert home.status_code == 200
    assert "Bonjour tm.dupont" in home.text


def test_sign_in_forms_refuse_a_token_from_another_browser(
    app: FastAPI, world: World, box: Container
) -> None:
    """Login CSRF: a form posted without this browser's pre-session token is refused.

    ASVS V3.5.1.
    """
    account = give_credentials(box.engine, "tm.dupont")
    victim = client_for(app)
    attacker = client_for(app, address="203.0.113.9")
    forged = token(attacker.get("/").text)
    victim.get("/")
    r = victim.post(
        "/connexion",
        data={"csrf_token": forged, "login": account.login, "password": account.password},
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "Le formulaire a expiré" in r.text


def test_forms_without_the_session_token_are_refused(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """Signed in, a form needs the session's CSRF token; the token of a page works.

    ASVS V3.5.1, V3.5.3 (state changes only by POST).
    """
    account = give_credentials(box.engine, "tm.dupont")
    client = client_for(app)
    csrf = sign_in(client, account, clock)
    for sent in ({}, {"csrf_token": "0" * 64}):
        r = client.post("/compte/codes-de-secours", data=sent)
        assert r.status_code == 403
        assert "Accès refusé" in r.text
    # The sign-in's own code proves nothing: a new code of the app is asked for this action.
    r = client.post(
        "/compte/codes-de-secours",
        data={"csrf_token": csrf, "proof_code": totp_code(account, clock)},
        follow_redirects=False,
    )
    assert (r.status_code, r.headers["location"]) == (303, "/compte/securite?ok=preuve_refusee")
    clock.advance(30)
    r = client.post(
        "/compte/codes-de-secours",
        data={"csrf_token": csrf, "proof_code": totp_code(account, clock)},
    )
    assert r.status_code == 200
    assert len(re.findall(r"<li>[A-Z0-9]{4}(?:-[A-Z0-9]{4}){5}</li>", r.text)) == 10


def test_step_up_replays_the_interrupted_form(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """Minutes after sign-in, a sensitive form asks for the code again, then goes through as
    it was sent (HTTP 307 keeps the method and the body).

    ASVS V7.5.1 (re-authentication before sensitive changes).
    """
    account = give_credentials(box.engine, "am.dupont")
    client = client_for(app)
    csrf = sign_in(client, account, clock)
    clock.advance(6 * 60)  # past the 5-minute freshness, within the idle limit
    form = {
        "csrf_token": csrf,
        "login": "tm.nouveau",
        "email": "tm.nouveau@example.fr",
        "roles": "training_manager",
    }
    asked = client.post("/comptes/demandes", data=form)
    assert asked.status_code == 401
    assert "Confirmez votre identité" in asked.text
    assert 'name="stepup_next" value="/comptes/demandes"' in asked.text
    assert 'name="stepup_method" value="post"' in asked.text
    wrong = client.post(
        "/verification",
        data={
            "csrf_token": csrf,
            "stepup_code": "000000",
            "stepup_next": "/comptes/demandes",
            "stepup_method": "post",
        },
    )
    assert wrong.status_code == 401
    assert "Code incorrect ou déjà utilisé." in wrong.text
    proven = client.post(
        "/verification",
        data={
            "csrf_token": csrf,
            "stepup_code": totp_code(account, clock),
            "stepup_next": "/comptes/demandes",
            "stepup_method": "post",
        },
        follow_redirects=False,
    )
    assert proven.status_code == 307
    assert proven.headers["location"] == "/comptes/demandes"
    replayed = client.post("/comptes/demandes", data=form, follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/demandes?ok=demande"


def test_step_up_never_redirects_off_site() -> None:
    """Only local page paths are followed after a step-up or a sign-in. ASVS V3.7.2."""
    assert safe_next("/personnes/0000001A?finalite=enrolment") == (
        "/personnes/0000001A?finalite=enrolment"
    )
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/api/v1/me", ""):
        assert safe_next(target) == "/accueil"


def test_unknown_and_out_of_scope_people_get_the_same_page(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """A person outside the agent's scope and one who does not exist: byte-identical 404 pages
    (no echo of the identifier). ASVS V8.2.2, V8.3.1."""
    account = give_credentials(box.engine, "tm.dupont")
    client = client_for(app)
    sign_in(client, account, clock)
    mine = client.get(f"/personnes/{world.persons['trainee'].ft_id}")
    assert mine.status_code == 200
    assert "Finalité déclarée : Suivi de la formation." in mine.text
    assert "NIR" not in mine.text  # a training body never receives it
    outside = client.get(f"/personnes/{world.persons['stranger'].ft_id}")
    absent = client.get("/personnes/9999999Z")
    assert outside.status_code == absent.status_code == 404
    assert outside.content == absent.content
    assert world.persons["stranger"].ft_id not in outside.text


def test_the_console_is_for_the_security_team(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """Partners get a French 403 page; the security officer gets the feed and its fragment.

    ASVS V8.2.1 (function-level access), V7.3.1 (polling does not keep a session alive).
    """
    partner = client_for(app)
    sign_in(partner, give_credentials(box.engine, "tm.dupont"), clock)
    refused = partner.get("/console")
    assert refused.status_code == 403
    assert "Accès refusé" in refused.text
    officer = client_for(app, address="198.51.100.8")
    sign_in(officer, give_credentials(box.engine, "ag.sec"), clock)
    page = officer.get("/console")
    assert page.status_code == 200
    assert 'hx-get="/console/alertes/flux"' in page.text
    assert '<script src="/static/vendor/htmx.min.js" defer></script>' in page.text
    # ASVS V7.3.1: the polls pause after half the idle timeout without activity (console.js).
    assert 'data-idle-seconds="450"' in page.text
    assert '<script src="/static/js/console.js" defer></script>' in page.text
    fragment = officer.get("/console/alertes/flux", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text


def test_signed_out_visitors_are_sent_to_sign_in(app: FastAPI, world: World) -> None:
    """A page without a session goes to the sign-in page and comes back after it; a polled
    fragment asks HTMX to reload the page instead. ASVS V7.2.1."""
    client = client_for(app)
    r = client.get("/portefeuille", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/?suite=/portefeuille"
    login = client.get("/?suite=/portefeuille")
    assert 'name="suite" value="/portefeuille"' in login.text
    polled = client.get("/console/alertes/flux", headers={"HX-Request": "true"})
    assert polled.headers["hx-refresh"] == "true"


def test_sign_out_clears_the_session_and_the_browser(
    app: FastAPI, world: World, box: Container, clock: ManualClock
) -> None:
    """The server forgets the session; the browser is told to clear its caches and storage.

    ASVS V7.4.1, V14.3.1.
    """
    client = client_for(app)
    csrf = sign_in(client, give_credentials(box.engine, "tm.dupont"), clock)
    out = client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["clear-site-data"] == '"cache", "storage"'
    assert "rempart_session=" in out.headers["set-cookie"]
    after = client.get("/accueil", follow_redirects=False)
    assert after.status_code == 303


def test_pages_carry_the_security_headers(app: FastAPI, world: World) -> None:
    """ASVS V3.4.1 (HSTS over HTTPS), V3.4.3-V3.4.6, V3.4.8, V14.3.2, V4.1.1."""
    client = client_for(app)
    for path in ("/", "/citoyen", "/nulle-part", "/static/css/rempart.css"):
        r = client.get(path)
        h = r.headers
        assert "script-src 'self';" in h["content-security-policy"]
        assert "unsafe-inline" not in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert h["cross-origin-opener-policy"] == "same-origin"
        assert h["cache-control"] == "no-store"
        assert h["strict-transport-security"].startswith("max-age=63072000")
        assert "charset=utf-8" in h["content-type"] or path.endswith(".css")


def test_domain_errors_become_french_pages_with_the_api_status(app: FastAPI, world: World) -> None:
    """Budget, suspension, lock, conflict, unexpected failure: a page in French with the same
    status code as the API, a Retry-After when waiting helps, never a stack trace.

    ASVS V16.5.1 (generic message on unexpected errors).
    """
    router = APIRouter(route_class=HtmlRoute)

    @router.get("/essai/{kind}")
    def fail(kind: str) -> None:
        raise {
            "budget": errors.BudgetExhausted("guard:budget:agent_hour: limit", 1800),
            "suspended": errors.AccessSuspended("your organisation's access is suspended"),
            "locked": errors.AccountLocked("this account is locked"),
            "conflict": errors.Conflict("this campaign is closed"),
            "crash": RuntimeError("secret internals"),
        }[kind]

    app.include_router(router)
    client = client_for(app)
    budget = client.get("/essai/budget")
    assert budget.status_code == 429
    assert budget.headers["retry-after"] == "1800"
    assert "Limite de consultation atteinte" in budget.text
    assert "30 minutes" in budget.text
    suspended = client.get("/essai/suspended")
    assert suspended.status_code == 403
    assert "L'accès de votre organisation est suspendu." in html.unescape(suspended.text)
    locked = client.get("/essai/locked")
    assert locked.status_code == 403
    assert "Ce compte est verrouillé." in locked.text
    conflict = client.get("/essai/conflict")
    assert conflict.status_code == 409
    assert "Cette campagne est close." in conflict.text
    crash = client.get("/essai/crash")
    assert crash.status_code == 500
    assert "Erreur inattendue" in crash.text
    assert "secret internals" not in crash.text
    assert "Traceback" not in crash.text
    nowhere = client.get("/nulle-part")
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/nulle-part")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_privileged_roles_register_a_passkey_before_anything_else(
    tmp_path: Path, clock: ManualClock, journal: MemoryJournal
) -> None:
    """Outside demo mode a security officer signs in with a key only; with a TOTP code they get
    an enrol-only session, which the pages send to the key registration page.

    ASVS V6.3.3 (phishing-resistant factor for privileged accounts).
    """
    from rempart.db.migrate import upgrade

    db_url = f"sqlite:///{tmp_path}/strict.db"
    upgrade(db_url)
    settings = auth_settings(db_url, webauthn_only_for_privileged=True)
    box = build_container(settings, clock=clock, journal=journal)  # type: ignore[arg-type]
    try:
        standard_world(box.engine)
        client = client_for(create_app(box.settings, container=box))
        sign_in(client, give_credentials(box.engine, "ag.sec"), clock)
        home = client.get("/accueil", follow_redirects=False)
        assert home.status_code == 303
        assert home.headers["location"] == "/compte/securite"
        page = client.get("/compte/securite")
        assert page.status_code == 200
        assert "Enregistrez une clé d'accès pour continuer" in html.unescape(page.text)
        assert 'data-passkey="register"' in page.text
        assert client.get("/console", follow_redirects=False).headers["location"] == (
            "/compte/securite"
        )
    finally:
        box.close()
