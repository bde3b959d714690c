"""``SettledRoute``: every route of the app; a plain ``def`` endpoint ends its unit of work in
its own worker thread.

FastAPI runs a ``def`` endpoint in a worker thread and hands its result back to the event
loop, where ``UnitOfWorkPerRequest`` commits when the answer starts. On SQLite, which has one
writer, that hand-back is a wait: a route that wrote holds the write lock until the loop gets
to it, and a request that writes on the loop meanwhile blocks the loop in SQLite's busy
handler, so the commit never comes and the server stalls for the whole busy timeout. Here
the endpoint's writes are committed (or, if it failed unexpectedly, rolled back) in the thread
that made them, before the result goes back (``rempart.db.uow.settle``). On PostgreSQL this
changes nothing: the unit of work stays whole until the middleware ends it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rempart.db.uow import discard, settle
from rempart.kernel.errors import RempartError


class SettledRoute(APIRoute):
    """An ``APIRoute`` whose ``def`` endpoint settles its unit of work before it returns."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _settled(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _settled(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the parameters through ``__wrapped__``
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = endpoint(*args, **kwargs)
        except (RempartError, HTTPException):
            settle()  # a refusal is an answer, and commits (a failure counter, a lock)
            raise
        except BaseException:
            discard()
            raise
        settle()
        return result

    return run


class DirectRoute(SettledRoute):
    """A route FastAPI documents (parameters, responses) but does not resolve: its ``async``
    endpoint is called with the request and its path parameters, as text.

    For the record read only: FastAPI's resolution of its parameters cost more than the scope
    policy and the record together. Such an endpoint reads and checks what else it needs
    itself (the caller's context, a query parameter), and declares no dependency."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{self.path}: a direct route's endpoint is async")

        async def handle(request: Request) -> Response:
            return cast(Response, await endpoint(request, **request.path_params))

        return handle


class DirectDispatch:
    """Sends the requests of the direct routes straight to their handlers, ahead of the router.

    FastAPI's router tries its routes and included routers one by one, each with its own
    scope bookkeeping: about 56 µs of a record read's 535 on this machine (``read_inproc
    --stages``: what the read spent outside its stages, before and after), more than the record
    itself.
    A direct route needs none of it (no dependency, no body), so its path is matched here
    with the route's own pattern and converters; every other request, and a direct route's
    path with another method, goes to the router as before. Errors still reach the app's
    exception handlers, which sit outside the router."""

    def __init__(self, app: ASGIApp, routes: list[DirectRoute]) -> None:
        self.app = app
        self._routes = [(route, route.get_route_handler()) for route in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a proxy that mounts the portal under a prefix (a root path), the router,
        # which knows how to strip it, decides as before.
        if scope["type"] == "http" and not scope.get("root_path"):
            for route, handler in self._routes:
                found = route.path_regex.match(scope["path"])
                if found is None or scope["method"] not in (route.methods or ()):
                    continue
                params = {
                    k: route.param_convertors[k].convert(v) for k, v in found.groupdict().items()
                }
                scope["path_params"] = params
                scope["endpoint"] = route.endpoint
                scope["route"] = route
                response = await handler(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def dispatch_direct_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Put ``DirectDispatch`` in front of ``app``'s router for the direct routes of ``routers``
    (included in ``app`` without a prefix, as the people router is)."""
    routes = [r for router in routers for r in router.routes if isinstance(r, DirectRoute)]
    if routes:
        app.router.middleware_stack = DirectDispatch(app.router.middleware_stack, routes)
