"""The security console: live alert feed, an alert's explanation and one-click containment,
the privileged-accounts inventory and the charts. For security officers and administrators.

The feed refreshes itself with HTMX polling a fragment every few seconds; without script the
page still works (a link reloads it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from rempart.console import service as security_console
from rempart.governance.service import accounts
from rempart.governance.web import governance
from rempart.guard.service import alerts
from rempart.signin.service import admin
from rempart.signin.web import auth_deps
from rempart.web.deps import container, portal, settings_of
from rempart.web.ui import charts, labels
from rempart.web.ui.routing import HtmlRoute
from rempart.web.ui.templating import render
from rempart.web.ui.visitor import SecurityTeam

router = APIRouter(route_class=HtmlRoute, include_in_schema=False)

AlertId = Annotated[int, Path(ge=1, le=2**62)]
FEED_SIZE = 50
POLL_SECONDS = 5
CHART_DAYS = 14


def _feed(request: Request, visitor: SecurityTeam) -> dict[str, object]:
    items = alerts.list_alerts(container(request).alerts, visitor.ctx, None, FEED_SIZE)
    return {"alerts": items, "refreshed_at": visitor.ctx.now, "poll": POLL_SECONDS}


@router.get("/console")
def console(request: Request, visitor: SecurityTeam) -> Response:
    """The live alert feed."""
    # Polls stop after half the idle timeout without the officer touching the page.
    idle = settings_of(request).session_idle_minutes * 30
    return render(
        request,
        "console/index.html",
        {"title": "Console sécurité", "idle_seconds": idle, **_feed(request, visitor)},
    )


@router.get("/console/alertes/flux")
def feed(request: Request, visitor: SecurityTeam) -> Response:
    """The feed's rows alone (polled by HTMX)."""
    return render(request, "console/_feed.html", _feed(request, visitor))


@router.get("/console/alertes/{alert_id}")
def alert_page(request: Request, visitor: SecurityTeam, alert_id: AlertId) -> Response:
    """One alert: rule, explanation, evidence, the account's state and the containment buttons."""
    found = security_console.alert_by_id(container(request).alerts, visitor.ctx, alert_id)
    state = security_console.account_state(governance(request), visitor.ctx, found.agent_login)
    org = portal(request).store.organisation(found.org_id) if found.org_id else None
    return render(
        request,
        "console/alert.html",
        {
            "title": f"Alerte n° {found.id}",
            "alert": found,
            "state": state,
            "org": org,
            "guard_rule": found.rule.startswith("guard:"),
        },
    )


@router.post("/console/alertes/{alert_id}/fermer-sessions")
def revoke(request: Request, visitor: SecurityTeam, alert_id: AlertId) -> Response:
    """End every session of the account the alert is about."""
    found = security_console.alert_by_id(container(request).alerts, visitor.ctx, alert_id)
    admin.revoke_account_sessions(auth_deps(request), visitor.ctx, found.agent_login)
    return RedirectResponse(f"/console/alertes/{alert_id}?ok=sessions_fermees", status_code=303)


@router.post("/console/alertes/{alert_id}/verrouiller")
def lock(request: Request, visitor: SecurityTeam, alert_id: AlertId) -> Response:
    """Lock the account the alert is about (its sessions end)."""
    found = security_console.alert_by_id(container(request).alerts, visitor.ctx, alert_id)
    security_console.lock_account(governance(request), visitor.ctx, found.agent_login, alert_id)
    return RedirectResponse(f"/console/alertes/{alert_id}?ok=compte_verrouille", status_code=303)


@router.post("/console/alertes/{alert_id}/suspendre-application")
def suspend_app(request: Request, visitor: SecurityTeam, alert_id: AlertId) -> Response:
    """Switch the organisation's partner app off (its sessions end)."""
    found = security_console.alert_by_id(container(request).alerts, visitor.ctx, alert_id)
    security_console.suspend_org_app(governance(request), visitor.ctx, found.org_id, alert_id)
    return RedirectResponse(f"/console/alertes/{alert_id}?ok=app_suspendue", status_code=303)


@router.get("/console/comptes-privilegies")
def privileged(request: Request, visitor: SecurityTeam) -> Response:
    """Every privileged account, its factors and who created and approved it."""
    items = accounts.privileged_inventory(governance(request), visitor.ctx)
    return render(
        request,
        "console/privileged.html",
        {"title": "Comptes à privilèges", "items": items},
    )


@router.get("/console/statistiques")
def statistics(
    request: Request,
    visitor: SecurityTeam,
    jours: Annotated[int, Query(ge=1, le=90)] = CHART_DAYS,
) -> Response:
    """Journal volumes per organisation per day, and alerts per rule, as SVG charts."""
    deps = portal(request)
    now = visitor.ctx.now
    first = (now - dt.timedelta(days=jours - 1)).date()
    since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    days = [first + dt.timedelta(days=i) for i in range(jours)]
    rows = security_console.journal_volumes(deps, visitor.ctx, since, now + dt.timedelta(seconds=1))

    def name_of(org_id: str) -> str:
        org = deps.store.organisation(org_id) if org_id else None
        return f"{org.name} ({org.id})" if org else (org_id or "Sans organisation")

    volume_chart, series, table = charts.stacked_by_day(rows, days, name_of)
    per_rule = security_console.alerts_per_rule(container(request).alerts, visitor.ctx, since)
    rule_chart = charts.horizontal_bars([(labels.RULES.get(r, r), n) for r, n in per_rule])
    return render(
        request,
        "console/statistics.html",
        {
            "title": "Statistiques",
            "days": days,
            "jours": jours,
            "volume_chart": volume_chart,
            "series": series,
            "table": table,
            "rule_chart": rule_chart,
            "per_rule": per_rule,
        },
    )
