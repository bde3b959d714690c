"""The "Incidents" page in a real browser: from an alert, one click opens the incident, whose
page shows the article 33 deadline (awareness + 72 h) and what is left of it; the exposure by
category; the list of people behind the second factor.

ASVS V16.3.2 (security events reach the team and are acted upon); GDPR art. 33(1).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import Demo, pass_step_up, shot, sign_in, watch

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PARIS = ZoneInfo("Europe/Paris")


def test_an_incident_opens_from_an_alert_and_shows_its_deadline(
    demo: Demo, new_context: Any
) -> None:
    officer = demo.agent("agency", "security_officer")
    # Not a training manager: the other browser tests count on the first free one.
    partner = demo.agent("mission_locale", "advisor")
    console = new_context().new_page()
    problems = watch(console)
    sign_in(console, demo, officer)

    # A partner's account reads its portfolio, then touches a canary record: an alert.
    canary = demo.rows("SELECT ft_id FROM persons WHERE is_canary ORDER BY id DESC LIMIT 1")[0][0]
    thief = new_context().new_page()
    sign_in(thief, demo, partner)
    thief.goto("/portefeuille")
    pass_step_up(thief, demo, partner)
    thief.goto(f"/personnes/{canary}")

    console.goto("/console")
    row = console.locator("#flux tr").filter(has_text=partner["login"]).first
    row.wait_for(timeout=20_000)
    row.get_by_role("link").first.click()
    console.get_by_role("heading", name=re.compile("^Alerte n°")).wait_for()
    clicked_at = dt.datetime.now(dt.UTC)
    console.get_by_role("button", name="Ouvrir un incident").click()

    console.get_by_role("heading", name=re.compile("^Incident n°")).wait_for()
    console.get_by_role("heading", name="Échéance de notification à la CNIL").wait_for()
    deadline = console.locator("#echeance").inner_text()
    # Awareness is the click; the deadline 72 h later, shown in Paris time to the minute.
    shown = dt.datetime.strptime(deadline, "%d/%m/%Y à %H:%M").replace(tzinfo=PARIS)
    due = clicked_at + dt.timedelta(hours=72)
    assert abs((shown - due).total_seconds()) < 120, (deadline, due)
    left = console.locator("#temps-restant").inner_text()
    assert re.fullmatch(r"7[12] h \d\d min", left), left
    shot(console, "incident-echeance")

    console.get_by_role("button", name=re.compile("exposition")).click()
    console.get_by_role("heading", name="Personnes exposées, par catégorie de données").wait_for()
    console.get_by_text("personnes exposées").first.wait_for()
    console.get_by_role("row", name=re.compile("^identité")).wait_for()
    console.get_by_role("heading", name="Projet de notification (article 33)").wait_for()
    shot(console, "incident-exposition")

    console.get_by_role("link", name=re.compile("Voir la liste des personnes")).click()
    pass_step_up(console, demo, officer)
    console.get_by_role("heading", name=re.compile("^Personnes exposées")).wait_for()
    shot(console, "incident-personnes")

    console.get_by_role("link", name="Incidents").first.click()
    console.get_by_role("heading", name="Incidents", exact=True).wait_for()
    assert console.get_by_role("link", name=re.compile("^Alerte n°")).count() >= 1
    assert problems == []
