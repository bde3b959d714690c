"""The people endpoints over HTTP: scope, field limits, byte-identical 404s (ASVS V8.2, V8.3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.identifiers import ft_id_from_number
from rempart.kernel.tags import Decision, Tag
from rempart.web.routing import DirectDispatch
from tests.factories import World

AsAgent = Callable[..., TestClient]


def test_training_manager_reads_own_trainee_without_nir_or_disability(
    as_agent: AsAgent, world: World
) -> None:
    r = as_agent("tm.dupont").get(f"/api/v1/persons/{world.persons['trainee'].ft_id}")
    assert r.status_code == 200
    body = r.json()
    assert body["ft_id"] == world.persons["trainee"].ft_id
    assert {"email", "phone", "postal_address", "trainings"} <= body.keys()
    assert "nir" not in body
    assert "rqth_since" not in body
    assert "registration_status" not in body
    assert body["purpose"] == "training_follow_up"


def test_out_of_scope_and_nonexistent_are_byte_identical(as_agent: AsAgent, world: World) -> None:
    client = as_agent("tm.dupont")
    stranger = client.get(f"/api/v1/persons/{world.persons['stranger'].ft_id}")
    other_body = client.get(f"/api/v1/persons/{world.persons['trainee_martin'].ft_id}")
    absent = client.get(f"/api/v1/persons/{ft_id_from_number(9_999_999)}")
    assert stranger.status_code == other_body.status_code == absent.status_code == 404
    assert stranger.content == other_body.content == absent.content
    assert stranger.headers["content-type"] == "application/problem+json"
    assert stranger.json()["code"] == "not_found"
    assert stranger.headers.keys() == absent.headers.keys()


def test_every_read_is_journaled_with_categories(
    as_agent: AsAgent, world: World, journal: MemoryJournal
) -> None:
    client = as_agent("ag.adv")
    ft_id = world.persons["agency_person"].ft_id
    assert client.get(f"/api/v1/persons/{ft_id}").status_code == 200
    assert client.get(f"/api/v1/persons/{world.persons['stranger'].ft_id}").status_code == 404
    allowed, refused = journal.entries[-2:]
    assert allowed.tag is Tag.PORTAL_PERSON_READ
    assert allowed.decision is Decision.ALLOW
    assert allowed.persons == (ft_id,)
    assert "nir" in allowed.categories
    assert "disability" in allowed.categories
    assert allowed.agent_login == "ag.adv"
    assert refused.decision is Decision.NOT_FOUND


def test_malformed_ft_id_is_400_problem(as_agent: AsAgent, world: World) -> None:
    client = as_agent("tm.dupont")
    for bad in [
        "123",
        "0412345k",
        "04123456K",
        "0412345KK",
        "%27%20OR%201%3D1--",
        "０４１２３４５K",
    ]:
        r = client.get(f"/api/v1/persons/{bad}")
        assert r.status_code == 400, bad
        assert r.json()["code"] == "invalid_request"
        assert r.headers["content-type"] == "application/problem+json"


def test_purpose_the_role_may_not_declare_is_400(as_agent: AsAgent, world: World) -> None:
    client = as_agent("tm.dupont")
    ft_id = world.persons["trainee"].ft_id
    assert client.get(f"/api/v1/persons/{ft_id}?purpose=employment_support").status_code == 400
    assert client.get(f"/api/v1/persons/{ft_id}?purpose=nonsense").status_code == 400
    enrol = client.get(f"/api/v1/persons/{ft_id}?purpose=enrolment")
    assert enrol.status_code == 200
    assert "email" not in enrol.json()


def test_roles_without_people_access_get_403(as_agent: AsAgent, world: World) -> None:
    ft_id = world.persons["agency_person"].ft_id
    for login in ["ag.sec", "ag.dpo", "ag.admin", "am.dupont"]:
        r = as_agent(login).get(f"/api/v1/persons/{ft_id}")
        assert r.status_code == 403, login
        assert r.json()["code"] == "forbidden"


def test_portfolio_lists_only_relations_and_pages(as_agent: AsAgent, world: World) -> None:
    r = as_agent("tm.dupont").get("/api/v1/portfolio?page=1&size=1")
    assert r.status_code == 200
    first = r.json()
    assert len(first["items"]) == 1
    assert first["next_page"] == 2
    r2 = as_agent("tm.dupont").get("/api/v1/portfolio?page=2&size=1")
    everyone = {i["ft_id"] for i in first["items"] + r2.json()["items"]}
    assert everyone == {world.persons["trainee"].ft_id, world.persons["trainee_ended"].ft_id}
    assert r2.json()["next_page"] is None
    assert as_agent("tm.dupont").get("/api/v1/portfolio?size=101").status_code == 400
    assert as_agent("tm.dupont").get("/api/v1/portfolio?page=0").status_code == 400


def test_exact_lookup_needs_both_values(as_agent: AsAgent, world: World) -> None:
    client = as_agent("tm.martin")
    p = world.persons["stranger"]
    ok = client.get(f"/api/v1/persons?ft_id={p.ft_id}&birth_date={p.birth_date}")
    assert ok.json() == {
        "items": [{"ft_id": p.ft_id, "last_name": p.last_name, "first_name": p.first_name}]
    }
    wrong = client.get(f"/api/v1/persons?ft_id={p.ft_id}&birth_date=1900-01-01")
    assert wrong.json() == {"items": []}
    assert client.get(f"/api/v1/persons?ft_id={p.ft_id}").status_code == 400
    assert client.get("/api/v1/persons?birth_date=1990-01-01").status_code == 400
    assert client.get(f"/api/v1/persons?ft_id={p.ft_id}&birth_date=1990-13-45").status_code == 400


def test_portfolio_export_lists_own_people_and_is_journaled(
    as_agent: AsAgent, world: World, journal: MemoryJournal
) -> None:
    stale = as_agent("tm.dupont").get("/api/v1/portfolio/export")
    assert stale.status_code == 401
    assert stale.json()["code"] == "step_up_required"
    r = as_agent("tm.dupont", fresh=True).get("/api/v1/portfolio/export")
    assert r.status_code == 200
    body = r.json()
    assert {i["ft_id"] for i in body["items"]} == {
        world.persons["trainee"].ft_id,
        world.persons["trainee_ended"].ft_id,
    }
    assert body["rows"] == 2
    assert journal.entries[-1].tag is Tag.PORTAL_ROSTER_EXPORT  # the step-up is journaled too
    assert set(journal.entries[-1].persons) == {i["ft_id"] for i in body["items"]}
    assert as_agent("ag.sec", fresh=True).get("/api/v1/portfolio/export").status_code == 403


def test_the_record_read_is_dispatched_ahead_of_the_router(
    as_agent: AsAgent, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record read takes ``DirectDispatch`` (web/routing.py), not the router's route list;
    the same path with another method, or a longer path, still reaches the router."""
    client = as_agent("ag.adv")
    ft_id = world.persons["agency_person"].ft_id
    routed: list[str] = []
    dispatch = client.app.router.middleware_stack  # type: ignore[attr-defined]
    assert isinstance(dispatch, DirectDispatch)
    router_app = dispatch.app

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        routed.append(scope["path"])
        await router_app(scope, receive, send)

    monkeypatch.setattr(dispatch, "app", counting)
    read = client.get(f"/api/v1/persons/{ft_id}", params={"purpose": "employment_support"})
    assert read.status_code == 200
    assert read.json()["ft_id"] == ft_id
    assert read.headers["x-content-type-options"] == "nosniff"  # the middlewares still run
    assert routed == []
    wrong_method = client.delete(f"/api/v1/persons/{ft_id}")
    assert wrong_method.status_code == 405
    assert client.post(f"/api/v1/persons/{ft_id}/notes", json={}).status_code in (400, 403, 422)
    assert routed == [f"/api/v1/persons/{ft_id}", f"/api/v1/persons/{ft_id}/notes"]
    # An error inside the direct route is still the app's problem+json.
    bad = client.get("/api/v1/persons/not-an-id")
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
