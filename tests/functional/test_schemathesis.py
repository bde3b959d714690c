"""Property-based fuzzing of the whole OpenAPI surface, signed in as each role: no input yields
a 5xx, every error is problem+json, every answer has a documented status, media type and body
schema (ASVS 5.0: V1.2.x injection defences, V2.2.1 input validation, V4.2.1 documented
messages, V16.5.1 generic error messages without internals).

``make test`` runs a bounded slice; ``make fuzz`` runs the same tests with more examples per
operation and role (``REMPART_FUZZ_EXAMPLES``, ``REMPART_FUZZ_STEPS``) and checks the count
(``REMPART_FUZZ_MIN_REQUESTS``); ``REMPART_FUZZ_REPORT`` names the JSON report it writes.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.fuzz import ROLES, TALLY, exchange, setting, spec_schema

# One worker runs them all, in this order, so that the count at the end sees every request.
pytestmark = pytest.mark.xdist_group("fuzz")

schema = spec_schema()
# The coverage phase (every boundary and negative value the spec names, every unexpected
# method) is most of the requests: in ``make fuzz`` only.
schema.config.phases.coverage.enabled = bool(setting("REMPART_FUZZ_COVERAGE", 0))
OPERATIONS = sum(1 for result in schema.get_all_operations() if result.ok())


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@settings(
    max_examples=setting("REMPART_FUZZ_EXAMPLES", 6),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error(role: str, case: schemathesis.Case[Any]) -> None:
    exchange(role, case)


@pytest.mark.parametrize("role", list(ROLES))
def test_sequences_along_the_links_give_no_server_error(role: str) -> None:
    """Stateful: the links the spec allows (a request's id to its approval, a campaign to its
    items, a list's logins to the account routes), walked as each role."""
    machine = schema.as_state_machine()

    class AsRole(machine):  # type: ignore[misc,valid-type]
        def call(self, case: schemathesis.Case[Any], **kwargs: Any) -> Any:
            return exchange(role, case, phase="sequences")

        def validate_response(self, *_args: Any, **_kwargs: Any) -> None:
            return None  # ``exchange`` has checked it

    before = TALLY.requests[role]
    AsRole.run(
        settings=settings(
            max_examples=setting("REMPART_FUZZ_SCENARIOS", 3),
            stateful_step_count=setting("REMPART_FUZZ_STEPS", 5),
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert TALLY.requests[role] > before


def test_the_run_reached_its_count() -> None:
    """Every operation was tried as every role (``make fuzz``: at least the count it asks for),
    and no answer was a 5xx or outside the spec."""
    floor = setting("REMPART_FUZZ_MIN_REQUESTS", OPERATIONS * len(ROLES))
    report = os.environ.get("REMPART_FUZZ_REPORT")
    if report:
        TALLY.write(report)
    assert TALLY.server_errors == 0
    assert TALLY.outside_spec == 0
    assert TALLY.total >= floor, TALLY.report()
