"""``IntervalRunner``: runs one job every N seconds on a background thread (inside ``serve``);
``Jobs``: the runners of one portal, built with it and started by the app's lifespan."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

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


class Jobs:
    """The periodic jobs of one running portal: built with it, started once by the app's
    lifespan (never by a request), stopped when the portal closes."""

    def __init__(self, runners: Sequence[IntervalRunner] = ()) -> None:
        self.runners = tuple(runners)
        self.started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every job; a second call (a second app on the same portal) does nothing."""
        with self._lock:
            if self.started:
                return
            self.started = True
        for runner in self.runners:
            runner.start()

    def close(self) -> None:
        """Stop every job, after the run in progress."""
        for runner in reversed(self.runners):
            runner.close()
