"""The one place that turns errors into RFC 9457 problem+json answers."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rempart.kernel import errors as e

log = logging.getLogger("rempart.web")

PROBLEM = "application/problem+json"

_STATUS: dict[type[e.RempartError], int] = {
    e.InvalidRequest: 400,
    e.NotFound: 404,
    e.MfaRequired: 401,
    e.SessionRevoked: 401,
    e.StepUpRequired: 401,
    e.Unauthenticated: 401,
    e.CsrfRejected: 403,
    e.Forbidden: 403,
    e.AccountLocked: 403,
    e.AccessSuspended: 403,
    e.Conflict: 409,
    e.BudgetExhausted: 429,
    e.Throttled: 429,
    e.PolicyError: 400,
    e.ServiceUnavailable: 503,
}

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "invalid_request",
    415: "invalid_request",
}


def _json_bytes(status: int, code: str, detail: str) -> bytes:
    import json

    body: dict[str, object] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# Built once: a person who does not exist and one outside scope get these very bytes.
NOT_FOUND_BODY = _json_bytes(404, "not_found", "")


def problem(
    status: int, code: str, detail: str = "", headers: dict[str, str] | None = None
) -> Response:
    """A problem+json response."""
    body = NOT_FOUND_BODY if code == "not_found" else _json_bytes(status, code, detail)
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def status_of(exc: e.RempartError) -> int:
    """The HTTP status of a Rempart error."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def response_for(exc: e.RempartError) -> Response:
    """The problem+json answer for a Rempart error."""
    headers: dict[str, str] = {}
    if isinstance(exc, e.BudgetExhausted | e.Throttled | e.ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return problem(status_of(exc), exc.code, exc.detail, headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    # Never echo the input itself: it may hold another person's data or a secret.
    return "; ".join(parts)[:300] or "malformed request"


def install(app: FastAPI) -> None:
    """Register the handlers that map every failure to problem+json."""

    @app.exception_handler(e.RempartError)
    async def _rempart(_req: Request, exc: e.RempartError) -> Response:
        return response_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> Response:
        return problem(400, "invalid_request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        code = _HTTP_CODES.get(status, "invalid_request" if status < 500 else "internal_error")
        detail = "" if status == 404 else str(exc.detail)
        return problem(status, code, detail, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> Response:
        if unreachable(exc):
            log.warning("database unreachable: %s", type(exc).__name__)
            return response_for(
                e.DatabaseUnavailable("the service's database cannot be reached; try again")
            )
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "internal_error", "an unexpected error occurred")


# A lost or refused connection, a pool with none left: the database is away, not a bug.
_UNREACHABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    ConnectionError,
)


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says a database could not be reached."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
