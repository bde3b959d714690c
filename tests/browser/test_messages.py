"""Official messages in a real browser: a person checks, on the citizen page, the reference of
the mail they received (genuine) and a forged one (not from us), then finds the message, in
full, in « Mes messages officiels » after the one-time code.

ASVS 5.0: V2.4.1 (the check is throttled, see tests/functional/test_official_messages.py),
V6.6.x (the space opens with the mailed one-time code), V3.4.x (every page keeps its headers,
no script or CSP complaint).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from rempart.messages import model
from tests.support.browser import Demo, shot, watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REFERENCE = re.compile(r"Référence : ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})")


def check(page: Any, reference: str) -> None:
    page.get_by_label(re.compile("Référence du message")).fill(reference)
    page.get_by_role("button", name="Vérifier ce message").click()
    page.get_by_role("heading", name="Ce message vient-il vraiment de nous ?", level=1).wait_for()


def test_a_person_checks_a_genuine_and_a_forged_reference(demo: Demo, new_context: Any) -> None:
    person, birth_date, email = demo.rows(
        "SELECT ft_id, birth_date, email FROM persons WHERE NOT is_canary AND email != '' "
        "ORDER BY id DESC LIMIT 1"
    )[0]
    page = new_context().new_page()
    problems = watch(page)
    page.goto("/citoyen")
    page.get_by_role("heading", name="Ce message vient-il vraiment de nous ?").wait_for()
    mails = len(demo.inbox.messages)
    page.get_by_label("Identifiant France Travail").fill(person)
    page.get_by_label("Date de naissance").fill(birth_date)
    page.get_by_role("button", name="Recevoir mon code").click()
    page.get_by_role("heading", name="Saisissez votre code").wait_for()
    mail = demo.inbox.wait_for(email, after=mails)
    body = mail.get_content()
    found = REFERENCE.search(body)
    assert found is not None
    reference = found.group(1)
    assert mail["X-Rempart-Reference"] == reference
    assert not model.has_link(body)
    code = re.search(r"Votre code : (\d{6})", body)
    assert code is not None

    # The genuine reference, typed as a person would (lower case, spaces), before signing in.
    visitor = new_context().new_page()
    visitor_problems = watch(visitor)
    visitor.goto("/citoyen")
    check(visitor, reference.lower().replace("-", " "))
    visitor.get_by_text("Oui, ce message vient bien de nous.").wait_for()
    assert "Votre code pour consulter les accès à votre dossier" in visitor.content()
    shot(visitor, "citoyen-message-authentique")
    # A forged one: the right shape, never sent.
    forged = "ZZZZ-ZZZZ-ZZZZ" if reference != "ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY"
    check(visitor, forged)
    visitor.get_by_text("Nous n'avons pas envoyé de message avec cette référence.").wait_for()
    assert "Oui, ce message vient bien de nous." not in visitor.content()
    assert "33700" in visitor.content()
    shot(visitor, "citoyen-message-contrefait")
    visitor.get_by_role(
        "link", name="Après une fuite de données : comment vous protéger"
    ).first.click()
    visitor.get_by_role(
        "heading", name="Après une fuite de données : comment vous protéger"
    ).wait_for()
    assert visitor_problems == []

    # Signed in with the code, the person finds the message, in full, in their space.
    page.get_by_label("Code reçu par courriel").fill(code.group(1))
    page.get_by_role("button", name="Voir les accès à mon dossier").click()
    page.get_by_role("heading", name="Les accès à votre dossier").wait_for()
    page.get_by_role("link", name="Mes messages officiels").click()
    page.get_by_role("heading", name="Mes messages officiels", level=1).wait_for()
    assert reference in page.content()
    assert code.group(1) not in page.content()  # the register masks the code
    shot(page, "citoyen-mes-messages")
    check(page, reference)
    page.get_by_text("Le message tel que nous l'avons envoyé").wait_for()
    assert problems == []
