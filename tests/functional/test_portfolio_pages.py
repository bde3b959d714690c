"""The portfolio in the Missions Locales and Cap emploi apps, through the pages: an adviser
takes a new person on with the code the person received, and closes a follow-up; a manager
hands follow-ups over. ASVS V8.2.2 (scope follows at once), V3.5.1 (every form carries CSRF).
"""

from __future__ import annotations

import re

from fastapi import FastAPI

from rempart.bootstrap import Container
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from tests.factories import World
from tests.functional.test_portfolio import code_mailed_to
from tests.functional.test_ui_pages import (  # the same portal, signed in through the forms
    app,  # noqa: F401 - fixture
    box,  # noqa: F401 - fixture
    sign_in,
    world,  # noqa: F401 - fixture
)
from tests.support.signin import client_for, give_credentials


def test_an_adviser_takes_on_then_closes_and_a_manager_hands_over(
    app: FastAPI,  # noqa: F811
    box: Container,  # noqa: F811
    world: World,  # noqa: F811
    clock: ManualClock,
) -> None:
    stranger = world.persons["stranger"]
    adviser = client_for(app)
    csrf = sign_in(adviser, give_credentials(box.engine, "ml.adv1"), clock)
    assert "Prendre en charge une nouvelle personne" in adviser.get("/portefeuille").text
    asked = adviser.post(
        "/portefeuille/prise-en-charge",
        data={"csrf_token": csrf, "ft_id": stranger.ft_id, "birth_date": str(stranger.birth_date)},
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    page = asked.headers["location"]
    assert "Code reçu par la personne" in adviser.get(page).text
    refused = adviser.post(
        page, data={"csrf_token": csrf, "code": "000000"}, follow_redirects=False
    )
    assert refused.headers["location"].endswith("ok=code_refuse")
    code = code_mailed_to(box, stranger.email)
    done = adviser.post(page, data={"csrf_token": csrf, "code": code}, follow_redirects=False)
    assert done.headers["location"] == f"/personnes/{stranger.ft_id}?ok=pris_en_charge"
    record = adviser.get(f"/personnes/{stranger.ft_id}")
    assert record.status_code == 200
    assert "Clore ce suivi" in record.text
    closed = adviser.post(
        f"/personnes/{stranger.ft_id}/cloture", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert closed.status_code == 303
    assert adviser.get(f"/personnes/{stranger.ft_id}").status_code == 404

    world.agent("am.ml", "Mission Locale Nord", Role.ACCOUNT_MANAGER)
    manager = client_for(app, address="198.51.100.23")
    token = sign_in(manager, give_credentials(box.engine, "am.ml"), clock)
    assert "Transférer des suivis" in manager.get("/structure/suivis").text
    moved = manager.post(
        "/structure/suivis",
        data={"csrf_token": token, "from_login": "ml.adv1", "to_login": "ml.adv2", "ft_ids": ""},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    youth = world.persons["youth"].ft_id
    assert adviser.get(f"/personnes/{youth}").status_code == 404
    assert re.search(r"transf", manager.get("/structure/suivis?ok=transferes").text)
