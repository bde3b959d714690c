"""The training follow-up app, the portfolio/scope agreement and the app kill switch.

ASVS 5.0: V8.2.2 (data-specific access), V8.3.1 (server-side enforcement), V2.2.1 (input
validation against the expected structure).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.tags import Tag
from tests.factories import World

AsAgent = Callable[..., TestClient]


def test_every_portfolio_item_is_readable_and_nothing_else(as_agent: AsAgent, world: World) -> None:
    """The portfolio query and the scope policy agree, for every agent of the world."""
    for login in ["tm.dupont", "tm.martin", "ml.adv1", "ml.adv2", "cap.adv", "ag.adv"]:
        client = as_agent(login)
        listed = {i["ft_id"] for i in client.get("/api/v1/portfolio?size=100").json()["items"]}
        for person in world.persons.values():
            status = client.get(f"/api/v1/persons/{person.ft_id}").status_code
            assert (status == 200) == (person.ft_id in listed), (login, person.ft_id, status)


def test_training_manager_sees_own_trainings_only(as_agent: AsAgent, world: World) -> None:
    client = as_agent("tm.dupont")
    titles = {t["title"] for t in client.get("/api/v1/trainings").json()["items"]}
    assert titles == {"Soudure", "Bureautique", "Anglais"}
    assert client.get(f"/api/v1/trainings/{world.trainings['Cuisine']}").status_code == 404
    detail = client.get(f"/api/v1/trainings/{world.trainings['Soudure']}").json()
    assert [p["ft_id"] for p in detail["enrolled"]] == [world.persons["trainee"].ft_id]
    assert len(detail["sessions"]) == 2


def test_attendance_is_recorded_for_enrolled_people_only(
    as_agent: AsAgent, world: World, journal: MemoryJournal
) -> None:
    client = as_agent("tm.dupont")
    session_id = world.sessions["Soudure#1"]
    trainee = world.persons["trainee"].ft_id
    r = client.put(
        f"/api/v1/training-sessions/{session_id}/attendance", json={"marks": {trainee: "present"}}
    )
    assert r.status_code == 200, r.text
    assert journal.entries[-1].tag is Tag.PORTAL_ATTENDANCE_WRITE
    roster = client.get(f"/api/v1/training-sessions/{session_id}/attendance").json()
    assert roster["attendance"] == [
        {
            "ft_id": trainee,
            "last_name": world.persons["trainee"].last_name,
            "first_name": world.persons["trainee"].first_name,
            "mark": "present",
        }
    ]
    stranger = world.persons["stranger"].ft_id
    refused = client.put(
        f"/api/v1/training-sessions/{session_id}/attendance", json={"marks": {stranger: "present"}}
    )
    assert refused.status_code == 404
    bad = client.put(
        f"/api/v1/training-sessions/{session_id}/attendance", json={"marks": {trainee: "maybe"}}
    )
    assert bad.status_code == 400
    other = as_agent("tm.martin").get(f"/api/v1/training-sessions/{session_id}/attendance")
    assert other.status_code == 404


def test_enrolment_by_exact_lookup_brings_the_person_into_scope(
    as_agent: AsAgent, world: World
) -> None:
    client = as_agent("tm.dupont")
    stranger = world.persons["stranger"]
    assert client.get(f"/api/v1/persons/{stranger.ft_id}").status_code == 404
    training = world.trainings["Soudure"]
    wrong = client.post(
        f"/api/v1/trainings/{training}/enrolments",
        json={"ft_id": stranger.ft_id, "birth_date": "1900-01-01"},
    )
    assert wrong.status_code == 404
    ok = client.post(
        f"/api/v1/trainings/{training}/enrolments",
        json={"ft_id": stranger.ft_id, "birth_date": stranger.birth_date.isoformat()},
    )
    assert ok.status_code == 201, ok.text
    assert client.get(f"/api/v1/persons/{stranger.ft_id}").status_code == 200
    ended = client.post(
        f"/api/v1/trainings/{world.trainings['Anglais']}/enrolments",
        json={"ft_id": stranger.ft_id, "birth_date": stranger.birth_date.isoformat()},
    )
    assert ended.status_code == 400


def test_advisers_cannot_use_the_training_app(as_agent: AsAgent, world: World) -> None:
    r = as_agent("ml.adv1").get("/api/v1/trainings")
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_follow_up_notes_by_the_assigned_adviser_only(as_agent: AsAgent, world: World) -> None:
    youth = world.persons["youth"].ft_id
    ok = as_agent("ml.adv1").post(f"/api/v1/persons/{youth}/notes", json={"text": "RDV fixé"})
    assert ok.status_code == 201
    record = as_agent("ml.adv1").get(f"/api/v1/persons/{youth}").json()
    assert [n["text"] for n in record["follow_up_notes"]] == ["RDV fixé"]
    assert (
        as_agent("ml.adv2").post(f"/api/v1/persons/{youth}/notes", json={"text": "x"}).status_code
        == 404
    )
    assert (
        as_agent("tm.dupont")
        .post(f"/api/v1/persons/{world.persons['trainee'].ft_id}/notes", json={"text": "x"})
        .status_code
        == 404
    )


def test_switching_one_app_off_leaves_the_others_running(
    as_agent: AsAgent, world: World, journal: MemoryJournal
) -> None:
    admin = as_agent("ag.admin")
    assert admin.post("/api/v1/admin/apps/training_follow_up/suspend", json={}).status_code == 200
    assert journal.entries[-1].tag is Tag.ADMIN_APP_SUSPENDED
    blocked = as_agent("tm.dupont").get(f"/api/v1/persons/{world.persons['trainee'].ft_id}")
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "access_suspended"
    assert (
        as_agent("ml.adv1").get(f"/api/v1/persons/{world.persons['youth'].ft_id}").status_code
        == 200
    )
    assert admin.post("/api/v1/admin/apps/training_follow_up/resume", json={}).status_code == 200
    assert (
        as_agent("tm.dupont").get(f"/api/v1/persons/{world.persons['trainee'].ft_id}").status_code
        == 200
    )


def test_app_switch_for_one_organisation(as_agent: AsAgent, world: World) -> None:
    admin = as_agent("ag.admin")
    org = world.orgs["Formations Dupont"]
    assert (
        admin.post(
            "/api/v1/admin/apps/training_follow_up/suspend", json={"org_id": org}
        ).status_code
        == 200
    )
    assert as_agent("tm.dupont").get("/api/v1/trainings").status_code == 403
    assert as_agent("tm.martin").get("/api/v1/trainings").status_code == 200
    assert (
        admin.post(
            "/api/v1/admin/apps/training_follow_up/suspend", json={"org_id": "NOPE"}
        ).status_code
        == 404
    )
    assert (
        as_agent("tm.martin")
        .post("/api/v1/admin/apps/training_follow_up/suspend", json={})
        .status_code
        == 403
    )
