"""Who was exposed: the exposure of a selector over a window, read from the journal.

The journal is read to the end through its indexes (by agent, by session, by time and
organisation), streamed: no page, no cap, no silent truncation. Computing it is itself an
access to a list of people, so the caller journals it (``journal_access``).
"""

from __future__ import annotations

import time

from rempart.incident.model import Exposure, Selector, SelectorKind, Window, exposure_of
from rempart.journal.ports import ScopedEntries


def compute_exposure(entries: ScopedEntries, selector: Selector, window: Window) -> Exposure:
    """Exactly the people whose data was served to the selector within the window."""
    started = time.perf_counter()
    rows = entries.scoped_entries(
        window.since,
        window.until,
        agent_logins=selector.values if selector.kind is SelectorKind.ACCOUNTS else (),
        session_id=selector.values[0] if selector.kind is SelectorKind.SESSION else "",
        org_id=selector.values[0] if selector.kind is SelectorKind.ORG else "",
        whole_window=selector.kind is SelectorKind.NETWORK,
    )
    found = exposure_of(rows, selector, window)
    found.computed_in_seconds = time.perf_counter() - started
    return found
