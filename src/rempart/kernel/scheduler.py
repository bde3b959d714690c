"""``IntervalRunner``: runs one job every N seconds on a background thread (inside ``serve``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("rempart.jobs")


class IntervalRunner:
    """Calls ``job`` every ``interval`` seconds until closed; the first run waits one interval,
    so that starting the server never races the jobs against start-up."""

    def __init__(self, interval: float, job: Callable[[], object], name: str = "rempart-jobs"):
        self.interval = interval
        self.job = job
        self.job_name = name
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        """Start the background thread."""
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
            except Exception:  # a failed run is logged; the next one still happens
                log.exception("scheduled jobs failed")
            self.runs += 1

    def close(self) -> None:
        """Stop after the run in progress, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
