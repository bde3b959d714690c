"""Server-rendered pages in French: the partner portal, the security console, the citizen page.

Jinja2 templates under ``templates/``, static files under ``static/`` (HTMX vendored from the
npm registry, see ``static/vendor/README``). No inline script anywhere: the CSP allows scripts
from this origin only.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error pages to ``app``."""
    from rempart.citizen import pages as citizen
    from rempart.console import pages as console
    from rempart.governance.pages import admin as governance
    from rempart.people import pages as portal
    from rempart.signin import pages as signin
    from rempart.web.ui import routing
    from rempart.web.ui.templating import STATIC

    for router in (signin.router, portal.router, governance.router, console.router):
        app.include_router(router)
    app.include_router(citizen.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routing.install(app)
