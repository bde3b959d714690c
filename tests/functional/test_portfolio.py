"""Advisers' portfolios in the Missions Locales and Cap emploi apps: hand-over by the
structure's manager, closing by the adviser, taking on a new person with their confirmation.
Scope follows at once; every change is journaled; bulk changes are alerted.

ASVS V8.2.1 / V8.2.2 (access to data follows the relation, checked on each request), V8.3.1
(changes of access are themselves authorised), V6.5.1 / V6.5.5 (a one-time code works once and
expires), V16.3.2 (journaled), V16.3.3 (alerted).
"""

from __future__ import annotations

import datetime as dt
import re
import time

from rempart.bootstrap import Container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.actors import Role
from rempart.kernel.clock import ManualClock
from rempart.kernel.tags import Tag
from rempart.mail.adapters.memory import MemoryMailer
from tests.factories import TODAY, World
from tests.support.governance import alerts_of, client_as

HAND_OVER = "/api/v1/portfolio/hand-over"


def code_mailed_to(box: Container, address: str, timeout: float = 10.0) -> str:
    mailer = box.mailer
    assert isinstance(mailer, MemoryMailer)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in reversed(mailer.outbox):
            if message.to == address and (found := re.search(r"\b(\d{6})\b", message.body)):
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no code mailed to {address}")


def test_a_manager_hands_a_follow_up_over_and_scope_follows_at_once(
    container: Container, world: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    world.agent("am.ml", "Mission Locale Nord", Role.ACCOUNT_MANAGER)
    youth = world.persons["youth"]
    one, two = client_as(container, "ml.adv1", clock), client_as(container, "ml.adv2", clock)
    assert one.get(f"/api/v1/persons/{youth.ft_id}").status_code == 200
    assert two.get(f"/api/v1/persons/{youth.ft_id}").status_code == 404

    manager = client_as(container, "am.ml", clock)
    r = manager.post(
        HAND_OVER, json={"from_login": "ml.adv1", "to_login": "ml.adv2", "ft_ids": [youth.ft_id]}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"handed_over": 1, "from": "ml.adv1", "to": "ml.adv2"}
    assert one.get(f"/api/v1/persons/{youth.ft_id}").status_code == 404
    assert two.get(f"/api/v1/persons/{youth.ft_id}").status_code == 200
    handed = [e for e in journal.entries if e.tag is Tag.PORTAL_FOLLOW_UP_HANDED_OVER]
    assert handed[-1].persons == (youth.ft_id,)
    assert handed[-1].agent_login == "am.ml"
    assert not alerts_of(container, "portfolio_bulk_change")  # one person is no bulk

    # Nobody outside the structure, and no one who is not its manager.
    assert (
        client_as(container, "am.dupont", clock)
        .post(HAND_OVER, json={"from_login": "ml.adv2", "to_login": "ml.adv1"})
        .status_code
        == 403
    )
    r = manager.post(HAND_OVER, json={"from_login": "cap.adv", "to_login": "ml.adv1"})
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    r = manager.post(
        HAND_OVER, json={"from_login": "ml.adv1", "to_login": "ml.adv2", "ft_ids": [youth.ft_id]}
    )
    assert r.status_code == 404  # no longer ml.adv1's: nothing is handed over


def test_a_bulk_hand_over_is_alerted(
    container: Container, world: World, clock: ManualClock
) -> None:
    world.agent("am.ml", "Mission Locale Nord", Role.ACCOUNT_MANAGER)
    for n in range(container.settings.portfolio_bulk_threshold):
        name = f"bulk{n}"
        world.person(name, 5000 + n)
        world.assign(name, "ml.adv1", "Mission Locale Nord", TODAY - dt.timedelta(days=20))
    r = client_as(container, "am.ml", clock).post(
        HAND_OVER, json={"from_login": "ml.adv1", "to_login": "ml.adv2"}
    )
    assert r.status_code == 200, r.text
    moved = r.json()["handed_over"]
    assert moved == container.settings.portfolio_bulk_threshold + 1  # and the youth
    alert = alerts_of(container, "portfolio_bulk_change")[-1]
    assert alert.agent_login == "am.ml"
    assert alert.evidence["count"] == moved


def test_an_adviser_closes_a_follow_up(
    container: Container, world: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    cap = world.persons["cap_person"]
    adviser = client_as(container, "cap.adv", clock)
    assert adviser.get(f"/api/v1/persons/{cap.ft_id}").status_code == 200
    assert adviser.post(f"/api/v1/portfolio/{cap.ft_id}/close").json() == {
        "ft_id": cap.ft_id,
        "closed": True,
    }
    assert adviser.get(f"/api/v1/persons/{cap.ft_id}").status_code == 404
    assert adviser.post(f"/api/v1/portfolio/{cap.ft_id}/close").status_code == 404
    closed = [e for e in journal.entries if e.tag is Tag.PORTAL_FOLLOW_UP_CLOSED]
    assert [e.persons for e in closed] == [(cap.ft_id,)]
    # Another adviser's follow-up cannot be closed (and looks absent).
    youth = world.persons["youth"]
    assert adviser.post(f"/api/v1/portfolio/{youth.ft_id}/close").status_code == 404


def test_taking_on_a_new_person_needs_the_code_they_received(
    container: Container, world: World, clock: ManualClock, journal: MemoryJournal
) -> None:
    stranger = world.persons["stranger"]
    adviser = client_as(container, "ml.adv1", clock)
    assert adviser.get(f"/api/v1/persons/{stranger.ft_id}").status_code == 404

    # Wrong details: the same answer, no message, and nothing to confirm.
    wrong = adviser.post(
        "/api/v1/portfolio/take-on", json={"ft_id": stranger.ft_id, "birth_date": "1901-01-01"}
    )
    assert wrong.status_code == 202
    r = adviser.post(
        f"/api/v1/portfolio/take-on/{wrong.json()['confirmation_id']}/confirm",
        json={"code": "123456"},
    )
    assert r.status_code == 400

    asked = adviser.post(
        "/api/v1/portfolio/take-on",
        json={"ft_id": stranger.ft_id, "birth_date": stranger.birth_date.isoformat()},
    )
    assert asked.status_code == 202, asked.text
    assert set(asked.json()) == set(wrong.json()) == {"confirmation_id", "expires_at"}
    code = code_mailed_to(container, stranger.email)
    url = f"/api/v1/portfolio/take-on/{asked.json()['confirmation_id']}/confirm"
    bad = "000000" if code != "000000" else "111111"
    assert adviser.post(url, json={"code": bad}).status_code == 400
    # Another adviser cannot use it.
    assert client_as(container, "ml.adv2", clock).post(url, json={"code": code}).status_code == 400
    r = adviser.post(url, json={"code": code})
    assert r.status_code == 200, r.text
    assert r.json() == {"ft_id": stranger.ft_id, "taken_on": True}
    assert adviser.get(f"/api/v1/persons/{stranger.ft_id}").status_code == 200  # at once
    assert adviser.post(url, json={"code": code}).status_code == 400  # once only
    taken = [e for e in journal.entries if e.tag is Tag.PORTAL_FOLLOW_UP_TAKEN_ON]
    assert [e.persons for e in taken] == [(stranger.ft_id,)]

    # The code expires.
    again = adviser.post(
        "/api/v1/portfolio/take-on",
        json={
            "ft_id": world.persons["trainee"].ft_id,
            "birth_date": world.persons["trainee"].birth_date.isoformat(),
        },
    )
    late = code_mailed_to(container, world.persons["trainee"].email)
    clock.advance(31 * 60)
    r = client_as(container, "ml.adv1", clock).post(
        f"/api/v1/portfolio/take-on/{again.json()['confirmation_id']}/confirm", json={"code": late}
    )
    assert r.status_code == 400
