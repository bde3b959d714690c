"""The app factory: ``create_app(settings)`` builds one self-contained Rempart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rempart import __version__
from rempart.bootstrap import Container, build_container
from rempart.citizen import api as citizen_api
from rempart.citizen import pages as citizen_pages
from rempart.console import pages as console_pages
from rempart.governance.api import access, accounts, admin, privileges, reviews
from rempart.governance.pages import admin as governance_pages
from rempart.governance.pages import enrol as enrol_page
from rempart.guard import api as alerts
from rempart.guard import metrics
from rempart.incident import pages as incident_pages
from rempart.journal import api as journal_api
from rempart.journal import pages as journal_pages
from rempart.messages import api as messages_api
from rempart.people import pages as people_pages
from rempart.people.api import persons as people
from rempart.people.api import portfolio as portfolio_api
from rempart.people.api import training
from rempart.settings import Settings
from rempart.signin import pages as signin_pages
from rempart.signin.api import auth as auth_api
from rempart.signin.api import dbsc, me
from rempart.signin.web import authenticate, authenticate_for_enrolment
from rempart.web import errors, openapi
from rempart.web.client import parse_proxies
from rempart.web.deps import current_context
from rempart.web.middleware import BodyLimit, SecurityHeaders, UnitOfWorkPerRequest
from rempart.web.routing import dispatch_direct_routes
from rempart.web.ui import routing
from rempart.web.ui.templating import STATIC


def create_app(settings: Settings, container: Container | None = None) -> FastAPI:
    """A Rempart app for ``settings`` (and an optional pre-built container, for tests)."""
    box = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        box.start_jobs()  # lifecycle and review jobs, every ``jobs_interval_seconds``
        box.serve_journal(asyncio.get_running_loop())  # its writer process, if configured
        yield
        box.close()

    app = FastAPI(
        title="Rempart",
        version=__version__,
        summary="Partner portal that opens personal data to partners without leaking it.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry would put request paths, which carry people's ft_ids,
        # into spans and logs for whatever exporter the environment configures; Rempart's
        # record of requests is its journal, its operational figures are /metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.container = box
    app.state.settings = settings
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    app.state.authenticate = authenticate  # sessions: signin/web.py
    errors.install(app)
    # The router tries routes in order: the data path first, sign-in and the rest after it.
    for router in (people.router, me.router, training.router, portfolio_api.router):
        app.include_router(router)
    for auth_router in (auth_api.router, dbsc.router, auth_api.admin_router, access.admin_router):
        app.include_router(auth_router)
    app.include_router(metrics.router)
    app.include_router(alerts.router)
    for router in (
        access.apps_router,
        accounts.router,
        privileges.router,
        reviews.router,
        admin.router,
        enrol_page.router,
    ):
        app.include_router(router)
    app.include_router(citizen_api.router)  # "who consulted my file": people, not agents
    app.include_router(messages_api.router)  # "did this message come from you?"
    app.include_router(journal_api.router)  # published checkpoints: anyone may check them
    # Every error answer documented as the one Problem schema; 401/403 wherever these resume
    # a session, 400 wherever there is input, identifiers with their patterns.
    openapi.install(
        app,
        session=(
            current_context,
            authenticate,
            authenticate_for_enrolment,
            citizen_api.citizen_session,
        ),
    )
    # The pages (after the API, so that their error handlers wrap the API's).
    for page_router in (
        signin_pages.router,
        people_pages.router,
        governance_pages.router,
        console_pages.router,
        incident_pages.router,
        citizen_pages.router,
        journal_pages.router,
    ):
        app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routing.install(app)
    dispatch_direct_routes(app, people.router)  # the record read, ahead of the router
    app.add_middleware(UnitOfWorkPerRequest, database=box.db)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=not settings.insecure_http)
    return app
