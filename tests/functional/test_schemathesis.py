"""Property-based fuzzing of the whole OpenAPI surface: no input yields a 5xx, every error is
problem+json, every answer has a documented status, media type and body schema (ASVS 5.0:
V1.2.x injection defences, V2.2.1 input validation, V4.2.1 documented messages, V16.5.1
generic error messages without internals)."""

from __future__ import annotations

import tempfile
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rempart.bootstrap import build_container
from rempart.journal.adapters.memory import MemoryJournal
from rempart.kernel.clock import ManualClock
from rempart.settings import Settings
from rempart.web.app import create_app
from rempart.web.deps import current_context
from tests.conftest import context_for
from tests.factories import NOW, standard_world

_dir = tempfile.mkdtemp(prefix="rempart-fuzz-")
_settings = Settings(demo=True, db_url=f"sqlite:///{_dir}/rempart.db")
from rempart.db.migrate import upgrade  # noqa: E402 - after the temp dir exists

upgrade(_settings.db_url)
_clock = ManualClock(NOW)
_container = build_container(_settings, clock=_clock, journal=MemoryJournal())
standard_world(_container.engine)
app = create_app(_settings, container=_container)
# A training manager: reaches people, may write attendance and enrol; the broadest partner role.
app.dependency_overrides[current_context] = lambda: context_for(_container, "tm.dupont", _clock)

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_gives_a_server_error(case: schemathesis.Case[Any]) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")
        body = response.json()
        assert isinstance(body["code"], str)
        assert "Traceback" not in response.text
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
