"""The OpenAPI side of the JSON API: the problem+json body every error has, the error answers a
route documents, and the value types the response models share.

Every JSON route declares its 2xx body with a response model and its error statuses with
``problems(...)``; ``install`` puts the one ``Problem`` schema into the spec's components.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any, NotRequired

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import Field, TypeAdapter
from typing_extensions import TypedDict

from rempart.web.errors import PROBLEM


class Problem(TypedDict):
    """RFC 9457 problem details with Rempart's stable ``code`` (``detail`` absent when empty)."""

    type: Annotated[str, Field(description='Always "about:blank".')]
    title: Annotated[str, Field(description="The HTTP status's reason phrase.")]
    status: Annotated[int, Field(ge=400, le=599)]
    code: Annotated[
        str,
        Field(
            description=(
                "A stable machine-readable word: invalid_request, unauthenticated, "
                "mfa_required, session_revoked, step_up_required, csrf, forbidden, "
                "account_locked, access_suspended, not_found, conflict, budget_exhausted, "
                "throttled, guard_unavailable, journal_unavailable, database_unavailable, "
                "method_not_allowed, internal_error."
            )
        ),
    ]
    detail: NotRequired[
        Annotated[str, Field(description="For humans; never another person's data.")]
    ]


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What each status means in this API (shared/API.md's error codes).
_MEANING = {
    400: "Malformed input (`invalid_request`).",
    401: "No live session or bad credentials: `unauthenticated`, `mfa_required`, "
    "`session_revoked`, `step_up_required`.",
    403: "`csrf`, `forbidden`, `account_locked` or `access_suspended`.",
    404: "No such object, or outside the caller's scope (`not_found`, byte-identical).",
    409: "The object's state does not allow it (`conflict`).",
    413: "The request body is over the server's size limit (`invalid_request`).",
    429: "`budget_exhausted` or `throttled`; the `Retry-After` header says when to retry.",
    503: "A dependency is unreachable, so the request fails closed and no data leaves: "
    "the guard's shared state (`guard_unavailable`), the journal, which must record a "
    "consultation before it is answered (`journal_unavailable`), or the database "
    "(`database_unavailable`). `Retry-After` says when to retry; service resumes by itself.",
}

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route, each a problem+json body; ``default`` covers the rest."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted(statuses):
        out[status] = _problem(_MEANING[status])
        if status in (429, 503):
            out[status]["headers"] = _RETRY_AFTER
    # A documented default also keeps FastAPI from announcing a 422 nobody ever receives:
    # malformed input is a 400 problem like every other error.
    out["default"] = _problem("Any other error (`internal_error`...), as problem+json.")
    return out


def no_content(description: str) -> dict[int | str, dict[str, Any]]:
    """The 204 answer of a route that has no body."""
    return {204: {"description": description}}


# Dates and times the service already wrote as strings (the person record is passed through
# untouched, for speed and byte-for-byte stable bodies): documented with their format.
DateText = Annotated[str, Field(json_schema_extra={"format": "date"})]
TimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _problem_schemas() -> dict[str, Any]:
    schema = TypeAdapter(Problem).json_schema(ref_template="#/components/schemas/{model}")
    return {"Problem": schema}


def _document_shared_answers(spec: dict[str, Any]) -> None:
    """The answers every route may give whatever it does: 503 when a dependency is down (every
    route reads the database), and 413 for a route that takes a body (the body limit sits in
    front of them all, ``web.middleware``; a text counted in characters can be over it in
    bytes)."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "503" not in responses:
                responses["503"] = _problem(_MEANING[503])
                responses["503"]["headers"] = _RETRY_AFTER
            if "requestBody" in operation:
                responses.setdefault("413", _problem(_MEANING[413]))


# The identifiers' formats (kernel/identifiers.py and the services enforce them: anything else
# is a 400).
PATTERNS = {
    "ft_id": r"^[0-9]{7}[A-Z]$",
    "nir": r"^[12][0-9]{12}[0-9]{2}$",
    "siret": r"^[0-9]{14}$",
    "request_id": r"^[0-9a-f]{32}$",
}


def _with_pattern(name: str, schema: dict[str, Any]) -> None:
    pattern = PATTERNS.get(name)
    if pattern is None:
        return
    if schema.get("type") == "string":
        schema["pattern"] = pattern
    for option in schema.get("anyOf", []):  # an optional identifier: string or null
        if option.get("type") == "string":
            option["pattern"] = pattern


def _calls(dependant: Dependant) -> set[Any]:
    """Every dependency a route's dependant calls, however deep."""
    found: set[Any] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def _session_routes(app: FastAPI, session: Collection[Callable[..., Any]]) -> set[tuple[str, str]]:
    """(method, path) of the routes that resume a session: they may answer 401 and 403."""
    wanted = set(session)
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):  # included routers, however nested
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if _calls(route.dependant) & wanted:
            found |= {(m.lower(), route.path_format) for m in route.methods or ()}
    return found


def _document_inputs_and_sessions(spec: dict[str, Any], session: set[tuple[str, str]]) -> None:
    """``400`` for any route that takes input (never FastAPI's ``422``: malformed input is a
    400 problem), ``401`` and ``403`` wherever a session is resumed, and the identifiers'
    patterns, in parameters and in bodies."""
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            wanted = set()
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.add(400)
            if (method, path) in session:
                wanted |= {401, 403}
            for status in sorted(wanted):
                responses.setdefault(str(status), _problem(_MEANING[status]))
            for parameter in operation.get("parameters", []):
                _with_pattern(parameter["name"], parameter.get("schema", {}))
    for schema in spec.get("components", {}).get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            _with_pattern(name, prop)


def install(app: FastAPI, session: Collection[Callable[..., Any]] = ()) -> None:
    """Serve a spec whose error answers resolve to the shared ``Problem`` schema; ``session``:
    the FastAPI dependencies that resume a session (their routes document 401 and 403)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = generate()
            spec.setdefault("components", {}).setdefault("schemas", {}).update(_problem_schemas())
            _document_shared_answers(spec)
            _document_inputs_and_sessions(spec, _session_routes(app, session))
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
