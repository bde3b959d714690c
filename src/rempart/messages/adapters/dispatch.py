"""Where deliveries run: ``InlineDispatcher`` at once (unit tests), ``ThreadDispatcher`` on a
worker thread, so that a request's answer never waits for (nor shows) a mail being sent."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("rempart.messages")


class InlineDispatcher:
    """Implements ``Dispatcher``: runs the job now."""

    def submit(self, job: Callable[[], object]) -> None:
        """Run ``job``."""
        job()


class ThreadDispatcher:
    """Implements ``Dispatcher`` with one worker thread; ``close`` runs what is queued."""

    def __init__(self, name: str = "rempart-messages") -> None:
        self.name = name
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job``."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - one failed delivery must not stop the others
                log.warning("official message delivery failed: %s", type(exc).__name__)

    def close(self, timeout: float = 120.0) -> None:
        """Run what is queued, then stop."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=timeout)
