"""The OpenAPI spec documents every JSON answer, and real answers match it.

Every JSON route declares its 2xx body (no free-form ``dict``), every documented error is the
one problem+json ``Problem`` schema, the pages stay out of the spec; then real answers of the
main routes, signed in as each kind of agent, are validated against the served spec (ASVS 5.0
V4.1.1 content types, V4.2.1 documented message structure, V15.3.1 only the fields needed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rempart.bootstrap import Container, build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.people.service import consult
from rempart.web.app import create_app
from tests.conftest import context_for
from tests.factories import World, standard_world
from tests.support.signin import auth_settings, client_for, give_credentials, sign_in

AsAgent = Callable[..., TestClient]
PROBLEM = "application/problem+json"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The spec the server serves at ``/openapi.json``."""
    from rempart.db.migrate import upgrade
    from rempart.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('spec')}/rempart.db"
    upgrade(url)
    box = build_container(Settings(demo=True, db_url=url), journal=MemoryJournal())
    try:
        r = TestClient(create_app(box.settings, container=box)).get("/openapi.json")
    finally:
        box.close()
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the spec."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield method, path, op


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its top-level ``$ref`` followed."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_spec_covers_the_whole_json_api(spec: dict[str, Any]) -> None:
    ops = list(operations(spec))
    assert len(ops) >= 70
    assert ("get", "/api/v1/persons/{ft_id}") in {(m, p) for m, p, _ in ops}


def test_every_json_route_documents_its_success_body(spec: dict[str, Any]) -> None:
    """Each 2xx answer but 204 has a declared object schema, never a free-form dict."""
    missing = []
    for method, path, op in operations(spec):
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        redirects = [s for s in op["responses"] if s.startswith("3")]
        assert successes or redirects, (method, path)
        for status, response in successes.items():
            if status == "204":
                assert "content" not in response, (method, path)
                continue
            content = response.get("content", {})
            if set(content) == {"text/plain"}:
                # The published journal answers in the C2SP text formats, not JSON.
                assert content["text/plain"]["schema"] == {"type": "string"}, (method, path)
                continue
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                missing.append(f"{method.upper()} {path} {status}: no JSON schema")
                continue
            target = resolve(spec, schema)
            if target.get("type") != "object" or not target.get("properties"):
                missing.append(f"{method.upper()} {path} {status}: not a declared object")
            elif target.get("additionalProperties") is True:
                missing.append(f"{method.upper()} {path} {status}: free-form object")
    assert not missing, "\n".join(missing)


def test_redirects_document_where_they_go(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith("3"):
                assert "Location" in response.get("headers", {}), (method, path, status)
                assert "content" not in response, (method, path, status)


def test_every_documented_error_is_the_problem_schema(spec: dict[str, Any]) -> None:
    """Error statuses answer problem+json with type, title, status, code (RFC 9457)."""
    wrong = []
    for method, path, op in operations(spec):
        errors = {s: r for s, r in op["responses"].items() if s == "default" or s >= "400"}
        assert "default" in errors, (method, path)
        for status, response in errors.items():
            content = response.get("content", {})
            if content != {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}:
                wrong.append(f"{method.upper()} {path} {status}: {sorted(content)}")
        # Malformed input is a 400 problem here, never FastAPI's 422.
        assert "422" not in op["responses"], (method, path)
    assert not wrong, "\n".join(wrong)
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code"}
    assert "detail" in problem["properties"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_rate_limited_answers_document_retry_after(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        if "429" in op["responses"]:
            assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)


def test_inputs_refuse_unknown_members(spec: dict[str, Any]) -> None:
    """Request bodies are closed objects: an unexpected member is a 400, not ignored."""
    for method, path, op in operations(spec):
        body = op.get("requestBody")
        if body is None or set(body["content"]) == {"text/plain"}:  # a C2SP note, not JSON
            continue
        schema = resolve(spec, body["content"]["application/json"]["schema"])
        if "anyOf" in schema:  # an optional body
            schema = resolve(spec, next(s for s in schema["anyOf"] if "$ref" in s))
        assert schema.get("additionalProperties") is False, (method, path)


def test_pages_stay_out_of_the_json_spec(spec: dict[str, Any], as_agent: AsAgent) -> None:
    """The server-rendered pages exist, but only ``/api/`` routes are documented, as JSON."""
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    assert "text/html" not in json.dumps(spec["paths"])
    page = as_agent("tm.dupont").get("/", follow_redirects=False)
    assert page.headers["content-type"].startswith("text/html")


def test_person_record_identity_is_required_and_the_rest_optional(spec: dict[str, Any]) -> None:
    """A withheld field is absent: the optional fields are not required and never null."""
    record = spec["components"]["schemas"]["PersonRecord"]
    assert set(record["required"]) == {"ft_id", "last_name", "first_name", "birth_date", "purpose"}
    props = record["properties"]
    for name in ("email", "phone", "postal_address", "nir", "registration_status", "trainings"):
        assert name in props
        assert "null" not in json.dumps(props[name]), name
    assert resolve(spec, props["registration_status"])["enum"]
    assert props["birth_date"]["format"] == "date"


# Real answers against the served spec.


def validator(spec: dict[str, Any], method: str, path: str, status: int) -> Any:
    """A JSON Schema validator for one documented answer of the spec."""
    responses = spec["paths"][path][method]["responses"]
    response = responses.get(str(status)) or responses["default"]
    media = PROBLEM if status >= 400 else "application/json"
    schema = dict(response["content"][media]["schema"])
    schema["components"] = spec["components"]
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def check(spec: dict[str, Any], r: Any, method: str, path: str) -> Any:
    """Assert that ``r`` is documented for its route and matches its schema; its body."""
    media = PROBLEM if r.status_code >= 400 else "application/json"
    assert r.headers["content-type"].startswith(media), (path, r.status_code, r.text[:200])
    body = r.json()
    errors = [e.message for e in validator(spec, method, path, r.status_code).iter_errors(body)]
    assert not errors, (method, path, r.status_code, errors[:3])
    return body


def test_person_records_match_the_schema_for_every_relation(
    spec: dict[str, Any], as_agent: AsAgent, world: World, container: Container, clock: ManualClock
) -> None:
    """Each relation's field set validates; the body is the service's record, byte for byte."""
    path = "/api/v1/persons/{ft_id}"
    seen: set[str] = set()
    for login, person in (
        ("tm.dupont", "trainee"),
        ("tm.dupont", "trainee_ended"),
        ("ml.adv1", "youth"),
        ("cap.adv", "cap_person"),
        ("ag.adv", "agency_person"),
    ):
        client = as_agent(login)
        ft_id = world.persons[person].ft_id
        if login != "tm.dupont":
            note = client.post(f"/api/v1/persons/{ft_id}/notes", json={"text": "Rendez-vous fixé"})
            assert note.status_code == 201
            check(spec, note, "post", "/api/v1/persons/{ft_id}/notes")
        r = client.get(f"/api/v1/persons/{ft_id}")
        assert r.status_code == 200, r.text
        body = check(spec, r, "get", path)
        seen |= body.keys()
        expected = consult.consult_person(
            container.portal, context_for(container, login, clock), ft_id, None
        )
        rendered = json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
        assert r.content == rendered
    assert {"nir", "rqth_since", "follow_up_notes", "trainings", "registration_status"} <= seen
    absent = as_agent("tm.dupont").get(f"/api/v1/persons/{world.persons['stranger'].ft_id}")
    assert absent.status_code == 404
    assert "detail" not in check(spec, absent, "get", path)


def test_partner_routes_match_the_schema(
    spec: dict[str, Any], as_agent: AsAgent, world: World
) -> None:
    tm = as_agent("tm.dupont", fresh=True)
    trainee = world.persons["trainee"]
    soudure = world.trainings["Soudure"]
    session = world.sessions["Soudure#1"]
    for path, url in (
        ("/api/v1/me", "/api/v1/me"),
        ("/api/v1/portfolio", "/api/v1/portfolio?size=2"),
        ("/api/v1/portfolio/export", "/api/v1/portfolio/export"),
        (
            "/api/v1/persons",
            f"/api/v1/persons?ft_id={trainee.ft_id}&birth_date={trainee.birth_date}",
        ),
        ("/api/v1/trainings", "/api/v1/trainings"),
        ("/api/v1/trainings/{training_id}", f"/api/v1/trainings/{soudure}"),
        (
            "/api/v1/training-sessions/{session_id}/attendance",
            f"/api/v1/training-sessions/{session}/attendance",
        ),
    ):
        r = tm.get(url)
        assert r.status_code == 200, (url, r.text)
        check(spec, r, "get", path)
    marks = tm.put(
        f"/api/v1/training-sessions/{session}/attendance",
        json={"marks": {trainee.ft_id: "present"}},
    )
    check(spec, marks, "put", "/api/v1/training-sessions/{session_id}/attendance")
    roster = tm.get(f"/api/v1/training-sessions/{session}/attendance")
    assert "present" in {m["mark"] for m in roster.json()["attendance"]}
    check(spec, roster, "get", "/api/v1/training-sessions/{session_id}/attendance")
    bad = tm.get("/api/v1/persons/not-an-id")
    assert bad.status_code == 400
    check(spec, bad, "get", "/api/v1/persons/{ft_id}")


def test_governance_and_security_routes_match_the_schema(
    spec: dict[str, Any], as_agent: AsAgent, world: World
) -> None:
    manager = as_agent("am.dupont", fresh=True)
    r = manager.post(
        "/api/v1/accounts",
        json={"login": "tm.new", "email": "tm.new@example.fr", "roles": ["training_manager"]},
    )
    assert r.status_code == 202, r.text
    check(spec, r, "post", "/api/v1/accounts")
    for path in ("/api/v1/accounts", "/api/v1/accounts/requests"):
        check(spec, manager.get(path), "get", path)
    admin = as_agent("ag.admin", fresh=True)
    requests = check(
        spec, admin.get("/api/v1/accounts/requests"), "get", "/api/v1/accounts/requests"
    )
    assert requests["items"]
    request_id = requests["items"][0]["request_id"]
    one = admin.get(f"/api/v1/accounts/requests/{request_id}")
    check(spec, one, "get", "/api/v1/accounts/requests/{request_id}")
    approved = admin.post(f"/api/v1/accounts/requests/{request_id}/approve")
    assert approved.status_code == 200, approved.text
    check(spec, approved, "post", "/api/v1/accounts/requests/{request_id}/approve")
    opened = admin.post("/api/v1/reviews", json={"org_id": world.orgs["Formations Dupont"]})
    assert opened.status_code == 201, opened.text
    campaign = check(spec, opened, "post", "/api/v1/reviews")["id"]
    for path, url in (
        ("/api/v1/reviews", "/api/v1/reviews"),
        ("/api/v1/reviews/{campaign_id}", f"/api/v1/reviews/{campaign}"),
        ("/api/v1/reviews/{campaign_id}/report", f"/api/v1/reviews/{campaign}/report"),
        ("/api/v1/admin/privileged-accounts", "/api/v1/admin/privileged-accounts"),
    ):
        r = admin.get(url)
        assert r.status_code == 200, (url, r.text)
        check(spec, r, "get", path)
    jobs = admin.post("/api/v1/admin/jobs/run")
    check(spec, jobs, "post", "/api/v1/admin/jobs/run")
    suspended = admin.post("/api/v1/admin/accounts/tm.martin/suspend", json={"reason": "test"})
    check(spec, suspended, "post", "/api/v1/admin/accounts/{login}/suspend")
    lifted = admin.post("/api/v1/admin/accounts/tm.martin/lift")
    check(spec, lifted, "post", "/api/v1/admin/accounts/{login}/lift")
    alerts = as_agent("ag.sec").get("/api/v1/alerts")
    assert check(spec, alerts, "get", "/api/v1/alerts")["items"]
    refused = as_agent("tm.dupont").get("/api/v1/alerts")
    assert refused.status_code == 403
    check(spec, refused, "get", "/api/v1/alerts")


@pytest.fixture
def signin_app(db_url: str, clock: ManualClock, journal: MemoryJournal) -> Iterator[FastAPI]:
    """An app with the real sign-in layer (no context override)."""
    box = build_container(auth_settings(db_url), clock=clock, journal=journal)  # type: ignore[arg-type]
    standard_world(box.engine)
    yield create_app(box.settings, container=box)
    box.close()


def test_signin_routes_match_the_schema(
    spec: dict[str, Any], signin_app: FastAPI, clock: ManualClock
) -> None:
    account = give_credentials(signin_app.state.container.engine, "tm.dupont")
    client = client_for(signin_app)
    refused = client.post("/api/v1/auth/login", json={"login": "tm.dupont", "password": "wrong"})
    assert refused.status_code == 401
    check(spec, refused, "post", "/api/v1/auth/login")
    first = client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    check(spec, first, "post", "/api/v1/auth/login")
    csrf = sign_in(client, account, clock)
    for path in ("/api/v1/auth/session", "/api/v1/auth/sessions", "/api/v1/auth/factors"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        check(spec, r, "get", path)
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert out.content == b""
    after = client.get("/api/v1/me")
    assert after.status_code == 401
    check(spec, after, "get", "/api/v1/me")


def test_every_route_documents_the_errors_it_can_give(spec: dict[str, Any]) -> None:
    """Pentest finding 7: no 422 anywhere (malformed input is a 400 problem); 400 wherever a
    route takes input; 401 and 403 wherever it needs a session (the agent's or the person's);
    429 on sign-in and on the data routes the guard throttles."""
    for method, path, op in operations(spec):
        codes = set(op["responses"])
        assert "422" not in codes, (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in codes, (method, path)
    by_route = {(m, p): set(op["responses"]) for m, p, op in operations(spec)}
    for route in [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/persons/{ft_id}"),
        ("post", "/api/v1/accounts"),
        ("post", "/api/v1/auth/factors/proof/totp"),
        ("post", "/api/v1/auth/password"),
        ("get", "/api/v1/citizen/accesses"),
        ("get", "/api/v1/alerts"),
    ]:
        assert {"401", "403"} <= by_route[route], route
    for route in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/mfa/totp"),
        ("post", "/api/v1/auth/password"),
        ("get", "/api/v1/persons/{ft_id}"),
        ("post", "/api/v1/citizen/challenge"),
    ]:
        assert "429" in by_route[route], route
    # The public routes do not pretend to need a session.
    assert "401" not in by_route[("get", "/api/v1/journal/checkpoint")]


def test_identifiers_carry_their_patterns(spec: dict[str, Any]) -> None:
    """ft_id (in paths, queries and bodies), NIR and SIRET are documented with their format,
    the one the server enforces (kernel/identifiers.py)."""
    ft_id = r"^[0-9]{7}[A-Z]$"
    seen = 0
    for method, path, op in operations(spec):
        for parameter in op.get("parameters", []):
            if parameter["name"] == "ft_id":
                assert parameter["schema"]["pattern"] == ft_id, (method, path)
                seen += 1
    assert seen >= 3
    schemas = spec["components"]["schemas"]
    assert schemas["PersonRecord"]["properties"]["ft_id"]["pattern"] == ft_id
    assert schemas["CodeRequestIn"]["properties"]["ft_id"]["pattern"] == ft_id
    nir = schemas["PersonRecord"]["properties"]["nir"]
    assert nir.get("pattern") or any(o.get("pattern") for o in nir.get("anyOf", []))
