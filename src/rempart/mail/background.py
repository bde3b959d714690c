"""``BackgroundMailer``: hands messages to a worker thread, so that sending never shows in the
time an answer takes (a code mailed or not must look the same from outside)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping

from rempart.mail.ports import Mailer

log = logging.getLogger("rempart.mail")

_Message = tuple[str, str, str, Mapping[str, str] | None]
_STOP: _Message = ("", "", "", None)


class BackgroundMailer:
    """Implements ``Mailer``: ``send`` queues the message and returns at once."""

    def __init__(self, inner: Mailer, tries: int = 3) -> None:
        self.inner = inner
        self.tries = tries
        self._queue: queue.Queue[_Message] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(
        self, to: str, subject: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Queue one message."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="rempart-mail", daemon=True)
                self._thread.start()
        self._queue.put((to, subject, body, dict(headers or {})))

    def _run(self) -> None:
        while (message := self._queue.get()) is not _STOP:
            for attempt in range(1, self.tries + 1):
                try:
                    self.inner.send(*message)
                    break
                except Exception as exc:  # noqa: BLE001 - a mail server problem must not kill the worker
                    # Never the body: it holds a one-time code.
                    log.warning(
                        "mail not sent (try %d/%d): %s", attempt, self.tries, type(exc).__name__
                    )
                    time.sleep(0.5 * attempt)

    def close(self) -> None:
        """Send what is queued, then stop."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)
