"""ASGI middleware: request size limit and security headers on every answer."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rempart.db.uow import Database, UnitOfWork, bind, unbind
from rempart.web.errors import problem


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413 before the app parses them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.limit + 1
                if declared > self.limit or declared < 0:
                    await problem(413, "invalid_request", "request body too large")(
                        scope, receive, send
                    )
                    return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLarge:
            if started:  # the app answered before reading it all: nothing more to say
                return
            await problem(413, "invalid_request", "request body too large")(scope, receive, send)


class _TooLarge(BaseException):
    """Not an ``Exception``: FastAPI turns any error while it reads a body into a 400, and
    a body cut off for its size must stay a 413 (ASVS V5.2.1)."""


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"cache-control", b"no-store"),
]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    """Add the security headers to every answer; HSTS when served over HTTPS."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS:
                    if k not in present:
                        headers.append((k, v))
                if self.hsts:
                    headers.append(HSTS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class UnitOfWorkPerRequest:
    """One unit of work per HTTP request: every store the request reaches shares one
    connection and one transaction, committed before the answer's first byte leaves (so a
    client never sees a success that was not stored) and rolled back when the request fails
    with an unexpected error. A refusal (a 4xx answer) still commits: a failed sign-in's
    counter or a lock must persist."""

    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database
        self.inline = database.single_writer  # SQLite is local: no need to leave the loop

    async def _run(self, step: Callable[[], None]) -> None:
        if self.inline:
            step()
        else:
            await run_in_threadpool(step)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        uow = UnitOfWork(self.database)
        token = bind(uow)
        committed = False

        async def send_after_commit(message: Message) -> None:
            nonlocal committed
            if message["type"] == "http.response.start" and not committed:
                committed = True
                await self._run(uow.commit)
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except BaseException:
            if not committed:
                await self._run(uow.rollback)
            raise
        finally:
            unbind(token)
            await self._run(uow.close)
