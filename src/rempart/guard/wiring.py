"""Wires the guard: its alert sink, its policy file, its state (Redis or in process), its
baselines rebuilt from the journal, and the job that keeps rebuilding them."""

from __future__ import annotations

import gc
import logging
from contextlib import ExitStack
from pathlib import Path

from rempart.db.uow import Database
from rempart.guard.adapters.fanout import FanOutAlertSink
from rempart.guard.adapters.memory_profiles import MemoryProfileStore
from rempart.guard.adapters.memory_state import MemoryGuardState
from rempart.guard.adapters.redis_state import RedisGuardState
from rempart.guard.adapters.sql_alerts import SqlAlertStore
from rempart.guard.policy import GuardPolicy, parse_policy
from rempart.guard.ports import AlertSink, Containment, GuardState
from rempart.guard.service.baselines import rebuild
from rempart.guard.service.inline import Guard
from rempart.journal.ports import AgentActivity, JournalWriter
from rempart.kernel.errors import PolicyError
from rempart.kernel.ports import Clock, Directory
from rempart.kernel.scheduler import IntervalRunner
from rempart.settings import Settings

log = logging.getLogger("rempart.guard")


def alert_sink(settings: Settings, db: Database, resources: ExitStack) -> AlertSink:
    """Alerts stored for the console and the API; pushed to a webhook and syslog if configured."""
    store = SqlAlertStore(db)
    if not (settings.alert_webhook_url or settings.alert_syslog):
        return store
    host, _, port = settings.alert_syslog.rpartition(":")
    if settings.alert_syslog and not (host and port.isdigit()):
        raise PolicyError("REMPART_ALERT_SYSLOG must be host:port")
    sink = FanOutAlertSink(
        store,
        webhook_url=settings.alert_webhook_url,
        syslog_host=host,
        syslog_port=int(port) if port.isdigit() else 514,
        syslog_tcp=settings.alert_syslog_tcp,
    )
    resources.callback(sink.close)
    return sink


def guard_policy(settings: Settings) -> GuardPolicy:
    """The policy file's rules, or the defaults; a bad file refuses, saying where."""
    if not settings.policy_file:
        return GuardPolicy()
    try:
        text = Path(settings.policy_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{settings.policy_file}: cannot read ({exc.strerror})") from None
    try:
        return parse_policy(text)
    except PolicyError as exc:
        raise PolicyError(f"{settings.policy_file}: {exc.detail}") from None


def guard_state(settings: Settings, resources: ExitStack) -> GuardState:
    """Redis when configured (shared by replicas), else in process."""
    if not settings.redis_url:
        return MemoryGuardState()
    state = RedisGuardState(settings.redis_url, prefix=settings.redis_prefix + "guard:")
    resources.callback(state.close)
    if state.forgets_on_restart():
        log.warning(
            "Redis keeps no append-only file: a Redis restart forgets every exposure budget "
            "(run it with appendonly yes, appendfsync always)"
        )
    return state


def build_guard(
    settings: Settings,
    *,
    containment: Containment,
    alerts: AlertSink,
    journal: JournalWriter,
    resources: ExitStack,
) -> Guard:
    """The inline guard; its baselines live in memory (``refresh_baselines`` fills them)."""
    return Guard(
        state=guard_state(settings, resources),
        profiles=MemoryProfileStore(),
        containment=containment,
        alerts=alerts,
        journal=journal,
        policy=guard_policy(settings),
    )


def refresh_baselines(
    guard: Guard, journal: JournalWriter, directory: Directory, clock: Clock, settings: Settings
) -> None:
    """Rebuild the guard's baselines from the journal, when the journal can be queried."""
    if not isinstance(guard.profiles, MemoryProfileStore) or not hasattr(journal, "activity"):
        return
    activity: AgentActivity = journal  # type: ignore[assignment]  # checked just above
    guard.profiles.replace(
        rebuild(
            activity,
            directory,
            clock.now(),
            settings.guard_baseline_days,
            guard.policy.detectors.usual_hour_min_share,
        )
    )
    # Baselines live until the next rebuild: keep the collector from rescanning them, so that
    # a full collection does not land in the middle of a request (guard p99).
    gc.collect()
    gc.freeze()


def baselines_job(
    guard: Guard, journal: JournalWriter, directory: Directory, clock: Clock, settings: Settings
) -> IntervalRunner:
    """Rebuilds the baselines every ``guard_rebuild_minutes`` once started."""
    return IntervalRunner(
        settings.guard_rebuild_minutes * 60,
        lambda: refresh_baselines(guard, journal, directory, clock, settings),
        name="guard-baselines",
    )
