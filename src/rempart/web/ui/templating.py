"""Jinja2 for the pages: one environment, autoescaped, strict about unknown names."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rempart.kernel.actors import OrgKind, Role
from rempart.people.scope import reaches_people
from rempart.web.ui import labels

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

try:
    PARIS: dt.tzinfo = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without tzdata
    PARIS = dt.UTC


def _moment(value: object) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS)


def date_fr(value: object) -> str:
    """« 05/03/2026 » for a date, a datetime or an ISO string; « — » for nothing."""
    if isinstance(value, dt.datetime):
        moment = _moment(value)
        return moment.strftime("%d/%m/%Y") if moment else "—"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return "—"


def datetime_fr(value: object) -> str:
    """« 05/03/2026 à 14:07 » in Paris time."""
    moment = _moment(value)
    return moment.strftime("%d/%m/%Y à %H:%M") if moment else "—"


def time_fr(value: object) -> str:
    """« 14:07:31 » in Paris time."""
    moment = _moment(value)
    return moment.strftime("%H:%M:%S") if moment else "—"


def label(value: object, table: str) -> str:
    """The French label of a domain word from one of ``labels``' tables."""
    words: Mapping[str, str] = getattr(labels, table.upper())
    text = str(value)
    return words.get(text, text)


def evidence_value(value: object) -> str:
    """An evidence value as text: lists joined, mappings as compact JSON."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list | tuple):
        return ", ".join(evidence_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if value is None or value == "":
        return "—"
    return str(value)


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def french(detail: str) -> str:
    """A service's detail in French when known, else as it is."""
    return labels.detail_fr(detail) or detail


env.filters.update(
    fr=french,
    date_fr=date_fr,
    datetime_fr=datetime_fr,
    time_fr=time_fr,
    label=label,
    evidence_value=evidence_value,
)
env.globals.update(labels=labels)


def navigation(visitor: Any) -> list[tuple[str, str]]:
    """The menu of a signed-in agent: only what their roles open."""
    if visitor is None:
        return []
    if visitor.enrol_only:
        return [("/compte/securite", "Sécurité du compte")]
    agent = visitor.ctx.agent
    items = [("/accueil", "Accueil")]
    if visitor.ctx.org.kind is OrgKind.TRAINING_BODY and agent.has(Role.TRAINING_MANAGER):
        items.append(("/formations", "Mes formations"))
    if reaches_people(agent):
        items.append(("/portefeuille", "Mon portefeuille"))
    if agent.has(Role.ACCOUNT_MANAGER):
        items.append(("/comptes", "Comptes"))
        if visitor.ctx.org.kind in (OrgKind.MISSION_LOCALE, OrgKind.CAP_EMPLOI, OrgKind.AGENCY):
            items.append(("/structure/suivis", "Transférer des suivis"))
    if agent.roles & {Role.ACCOUNT_MANAGER, Role.SECURITY_OFFICER, Role.ADMIN}:
        items.append(("/demandes", "Demandes"))
    if agent.roles & {Role.ACCOUNT_MANAGER, Role.DPO, Role.SECURITY_OFFICER, Role.ADMIN}:
        items.append(("/revues", "Revues d'accès"))
    if visitor.console:
        items.append(("/console", "Console sécurité"))
    items.append(("/compte/securite", "Sécurité du compte"))
    return items


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page: ``template`` with ``context``, the visitor (when signed in) and the notice."""
    visitor = getattr(request.state, "visitor", None)
    notice = labels.NOTICES.get(request.query_params.get("ok", ""))
    values: dict[str, Any] = {
        "path": request.url.path,
        "visitor": visitor,
        "csrf_token": visitor.csrf if visitor is not None else "",
        "notice": notice,
        "nav": navigation(visitor),
        "title": "",
    }
    values.update(context or {})
    html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))
