"""Alerts pushed to the organisation's tools: a JSON webhook and RFC 5424 syslog for the SIEM.

Delivery runs on a background thread so that the request that raised the alert is never slowed
by a remote system; the alert is stored first (the console and the API read it there).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import socket
import threading
from dataclasses import replace

import httpx

from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink

log = logging.getLogger("rempart.alerts")

# RFC 5424 severities; facility 10 is security/authorization (authpriv).
_SYSLOG_SEVERITY = {
    Severity.CRITICAL: 2,
    Severity.HIGH: 3,
    Severity.MEDIUM: 4,
    Severity.LOW: 5,
    Severity.INFO: 6,
}
FACILITY_AUTHPRIV = 10
SD_ID = "rempart@32473"  # 32473 is the private enterprise number reserved for examples


def alert_document(alert: Alert) -> dict[str, object]:
    """The JSON pushed to the webhook (the API's shape)."""
    return {
        "id": alert.id,
        "at": alert.at.isoformat(),
        "rule": alert.rule,
        "severity": str(alert.severity),
        "agent_login": alert.agent_login,
        "org_id": alert.org_id,
        "action_taken": alert.action_taken,
        "explanation": alert.explanation,
        "evidence": alert.evidence,
    }


def _sd_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_line(alert: Alert, hostname: str, app: str = "rempart") -> str:
    """One RFC 5424 message for an alert (structured data carries the fields a SIEM indexes)."""
    pri = FACILITY_AUTHPRIV * 8 + _SYSLOG_SEVERITY.get(alert.severity, 5)
    at = alert.at.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    params = {
        "id": str(alert.id),
        "rule": alert.rule,
        "severity": str(alert.severity),
        "agent": alert.agent_login,
        "org": alert.org_id,
        "action": alert.action_taken,
    }
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
    msg = " ".join(alert.explanation.split())  # one line, whatever the explanation held
    host = hostname[:255] or "-"
    return f"<{pri}>1 {at} {host} {app} - alert {sd} {msg}"


class FanOutAlertSink:
    """Implements ``AlertSink``: stores through ``inner``, then delivers in the background."""

    def __init__(
        self,
        inner: AlertSink,
        webhook_url: str = "",
        syslog_host: str = "",
        syslog_port: int = 514,
        syslog_tcp: bool = False,
    ) -> None:
        self.inner = inner
        self.webhook_url = webhook_url
        self.syslog = (syslog_host, syslog_port) if syslog_host else None
        self.syslog_tcp = syslog_tcp
        self.hostname = socket.gethostname()
        self._queue: queue.Queue[Alert | _Marker | None] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name="alert-fanout", daemon=True)
        self._thread.start()

    def raise_alert(self, alert: Alert) -> int:
        """Store the alert, then queue it for delivery."""
        alert_id = self.inner.raise_alert(alert)
        try:
            self._queue.put_nowait(replace(alert, id=alert_id))
        except queue.Full:
            log.warning("alert delivery queue full: alert %s kept in the store only", alert_id)
        return alert_id

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Read through to the store."""
        return self.inner.alerts_since(since, limit)

    def counts_by_rule(self) -> dict[str, int]:
        """Read through to the store."""
        return self.inner.counts_by_rule()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued alerts were handed over (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(_Marker(done))
        done.wait(timeout)

    def close(self) -> None:
        """Deliver what is queued, then stop."""
        self.flush()
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        client = httpx.Client(timeout=3.0)
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                if isinstance(item, _Marker):
                    item.done.set()
                    continue
                self._deliver(client, item)
        finally:
            client.close()

    def _deliver(self, client: httpx.Client, alert: Alert) -> None:
        if self.webhook_url:
            try:
                client.post(self.webhook_url, json=alert_document(alert)).raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("alert %s: webhook delivery failed (%s)", alert.id, type(exc).__name__)
        if self.syslog is not None:
            line = syslog_line(alert, self.hostname).encode("utf-8")
            try:
                if self.syslog_tcp:
                    with socket.create_connection(self.syslog, timeout=3) as s:
                        # RFC 6587 octet counting
                        s.sendall(str(len(line)).encode() + b" " + line)
                else:
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        s.sendto(line, self.syslog)
            except OSError as exc:
                log.warning("alert %s: syslog delivery failed (%s)", alert.id, type(exc).__name__)


class _Marker:
    def __init__(self, done: threading.Event) -> None:
        self.done = done
