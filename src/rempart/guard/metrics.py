"""``/metrics``: Prometheus text for the operations team (guard decisions, latency, alerts)."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from starlette.responses import Response

from rempart.guard.stats import LATENCY_BUCKETS
from rempart.kernel.errors import Forbidden
from rempart.web.client import client_address
from rempart.web.deps import container
from rempart.web.routing import SettledRoute

router = APIRouter(include_in_schema=False, route_class=SettledRoute)


class RempartCollector:
    """Reads the guard's own counters and the alert store at scrape time."""

    def __init__(self, request: Request) -> None:
        self.box = container(request)

    def collect(self) -> Iterator[Metric]:
        """The metric families."""
        guard = self.box.guard
        decisions = CounterMetricFamily(
            "rempart_guard_decisions", "Guard decisions by action", labels=["action"]
        )
        findings = CounterMetricFamily(
            "rempart_guard_findings", "Guard findings by rule", labels=["rule"]
        )
        exhausted = CounterMetricFamily(
            "rempart_guard_budgets_exhausted", "Requests refused on an exposure budget"
        )
        unavailable = CounterMetricFamily(
            "rempart_guard_unavailable", "Data requests refused because guard state was unreachable"
        )
        if guard is not None:
            stats = guard.stats.snapshot()
            for action, n in sorted(stats.decisions.items()):
                decisions.add_metric([action], n)
            for rule, n in sorted(stats.findings.items()):
                findings.add_metric([rule], n)
            exhausted.add_metric([], stats.budgets_exhausted)
            unavailable.add_metric([], stats.unavailable)
            buckets: list[tuple[str, float]] = []
            running = 0
            for bound, n in zip(LATENCY_BUCKETS, stats.latency_counts, strict=False):
                running += n
                buckets.append((repr(bound), running))
            buckets.append(("+Inf", sum(stats.latency_counts)))
            yield HistogramMetricFamily(
                "rempart_guard_decision_seconds",
                "Time to decide one data request",
                buckets=buckets,
                sum_value=stats.latency_sum,
            )
        yield decisions
        yield findings
        yield exhausted
        yield unavailable
        alerts = CounterMetricFamily("rempart_alerts", "Alerts raised by rule", labels=["rule"])
        for rule, n in sorted(self.box.alerts.counts_by_rule().items()):
            alerts.add_metric([rule], n)
        yield alerts


def _allowed(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.get_secret_value().encode())
    # The client address rule of every other route (shared/API.md): behind a trusted proxy it
    # is the forwarded client, not the proxy, which is often on loopback itself.
    peer = request.client.host if request.client else ""
    address = client_address(
        peer, request.headers.get("x-forwarded-for"), request.app.state.trusted_proxies
    )
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/metrics")
def metrics(request: Request) -> Any:
    """Prometheus metrics: with the bearer token when one is set, else from loopback only."""
    if not _allowed(request):
        raise Forbidden("metrics are for the operations team")
    registry = CollectorRegistry()
    registry.register(RempartCollector(request))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
