"""FastAPI dependencies: the container, the settings, the client, the signed-in agent."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from rempart.bootstrap import Container
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.errors import InvalidRequest, Unauthenticated
from rempart.people.service.deps import PortalDeps
from rempart.settings import Settings
from rempart.web.client import client_address

# The header an API client echoes its session's CSRF token in (the pages use a form field).
CSRF_HEADER = "x-csrf-token"


def container(request: Request) -> Container:
    """The app's container (built by ``create_app``)."""
    return cast(Container, request.app.state.container)


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    return cast(Settings, request.app.state.settings)


def client_info(request: Request) -> ClientInfo:
    """Who is at the other end, as far as the server can tell."""
    peer = request.client.host if request.client else ""
    address = client_address(
        peer, request.headers.get("x-forwarded-for"), request.app.state.trusted_proxies
    )
    # The network (AS and country, offline) binds sessions and feeds the guard's detectors.
    network, country = container(request).auth.locator.locate(address)
    return ClientInfo(
        address=address,
        user_agent=request.headers.get("user-agent", "")[:512],
        network=network,
        country=country,
    )


# The dependencies of every route are ``async``: FastAPI runs a plain ``def`` dependency in the
# thread pool, one hop per dependency per request; these do no I/O, or only local I/O inline.


async def current_context(request: Request) -> RequestContext:
    """The signed-in agent's context; the sign-in layer provides ``state.authenticate``.

    On a local portal (``Container.inline_requests``) its few reads run on the event loop;
    otherwise in the thread pool."""
    authenticate = getattr(request.app.state, "authenticate", None)
    if authenticate is None:
        raise Unauthenticated("sign in first")
    if container(request).inline_requests:
        return cast(RequestContext, authenticate(request))
    return cast(RequestContext, await run_in_threadpool(authenticate, request))


async def resolved_context(request: Request) -> RequestContext:
    """``current_context`` for a route that declares no dependency (the record read).

    A stand-in the app was given for it (``app.dependency_overrides``, which the tests use in
    place of a signed-in session) is honoured, as FastAPI would; it takes no argument."""
    stand_in = request.app.dependency_overrides.get(current_context)
    if stand_in is not None:
        return cast(RequestContext, stand_in())
    return await current_context(request)


def query_text(request: Request, name: str, *, max_length: int) -> str | None:
    """A query parameter read by hand, with the check FastAPI would make: one value at most
    ``max_length`` long (a 400 problem otherwise, as for any invalid parameter)."""
    if not request.scope.get("query_string"):  # none at all: nothing to parse
        return None
    value = request.query_params.get(name)
    if value is not None and len(value) > max_length:
        raise InvalidRequest(f"{name}: at most {max_length} characters")
    return value


def portal(request: Request) -> PortalDeps:
    """The portal's use-case dependencies."""
    return container(request).portal


async def _portal(request: Request) -> PortalDeps:
    return container(request).portal


def inline(request: Request) -> bool:
    """True when this request's use case may run on the event loop."""
    return container(request).inline_requests


Ctx = Annotated[RequestContext, Depends(current_context)]
Portal = Annotated[PortalDeps, Depends(_portal)]
AppSettings = Annotated[Settings, Depends(settings_of)]
