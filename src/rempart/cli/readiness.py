"""What a production start needs, checked before ``rempart serve`` listens.

Outside demo mode the portal serves real people's data: it starts only when every part of the
production setup is there (docs/operations.md), and otherwise refuses, naming each missing
part and the setting that provides it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select

from rempart.db.engine import is_sqlite, make_engine
from rempart.db.migrate import alembic_config
from rempart.db.schema.core import AgentRow, OrganisationRow
from rempart.settings import Settings

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", ""})


def settings_problems(settings: Settings) -> list[str]:
    """What the settings lack for production (nothing in demo mode)."""
    if settings.demo:
        return []
    problems = []
    if is_sqlite(settings.db_url):
        problems.append("--db / REMPART_DB_URL: the portal database is PostgreSQL in production")
    journal = settings.journal_url
    if not journal or is_sqlite(journal) or journal == settings.db_url:
        problems.append(
            "--journal / REMPART_JOURNAL_URL: the journal in its own PostgreSQL database"
        )
    if settings.journal_signing_key is None:
        problems.append("REMPART_JOURNAL_SIGNING_KEY: the journal's checkpoint signing key")
    if not settings.redis_url:
        problems.append("REMPART_REDIS_URL: Redis, the guard state the replicas share")
    if not settings.smtp_host:
        problems.append("REMPART_SMTP_HOST: the mail relay (enrolment links, people's codes)")
    public = urlsplit(settings.public_url)
    if public.scheme != "https" or (public.hostname or "") in LOCAL_HOSTS:
        problems.append("REMPART_PUBLIC_URL: the https address people and partners reach")
    if settings.insecure_http:
        problems.append("--insecure-http: for local use only, never in production")
    if not settings.trusted_proxies:
        problems.append(
            "--trusted-proxy / REMPART_TRUSTED_PROXIES: the reverse proxy's address "
            "(else every client looks like the proxy to the guard)"
        )
    if settings.metrics_token is None:
        problems.append("REMPART_METRICS_TOKEN: the bearer token of /metrics")
    if not (settings.alert_webhook_url or settings.alert_syslog):
        problems.append(
            "REMPART_ALERT_WEBHOOK_URL or REMPART_ALERT_SYSLOG: where alerts reach the "
            "security team in real time"
        )
    return problems


def database_problems(engine: Engine) -> list[str]:
    """What the portal database lacks: the latest migration, a national administrator."""
    problems = []
    heads = set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
        if current != heads:
            problems.append("the database is not at the latest migration: run `rempart db upgrade`")
            return problems
        admins = conn.execute(
            select(AgentRow.roles)
            .join(OrganisationRow, OrganisationRow.id == AgentRow.org_id)
            .where(OrganisationRow.kind == "agency", AgentRow.active.is_(True))
        ).scalars()
        if not any("admin" in roles.split() for roles in admins):
            problems.append(
                "no national administrator: run `rempart admin bootstrap` (after importing "
                "the agency's organisations)"
            )
    return problems


def production_problems(settings: Settings) -> list[str]:
    """Everything a production start lacks (empty in demo mode, or when all is there)."""
    if settings.demo:
        return []
    problems = settings_problems(settings)
    engine = make_engine(settings.db_url)
    try:
        problems += database_problems(engine)
    finally:
        engine.dispose()
    return problems
