"""Reading an incident's people is itself an access to personal data: each one is journaled.

The journal entry names who looked (an officer's session, or the operator of a command), what
was selected and how many people came back, and a digest of the list, not the list itself:
the journal must not become a second copy of the victims' list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from rempart.journal.model import JournalEntry
from rempart.kernel.categories import Purpose
from rempart.kernel.tags import Decision, Tag


def list_digest(ft_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted identifiers, one per line: proves later which list was seen."""
    h = hashlib.sha256()
    for ft_id in sorted(ft_ids):
        h.update(ft_id.encode("ascii", "replace") + b"\n")
    return h.hexdigest()


def operator_entry(
    at: dt.datetime,
    operator: str,
    tag: Tag,
    *,
    decision: Decision = Decision.ALLOW,
    details: dict[str, object] | None = None,
    reason: str = "",
) -> JournalEntry:
    """An entry for what the operator of a command did (no session, no organisation)."""
    return JournalEntry(
        at=at,
        tag=tag,
        decision=decision,
        agent_login=f"cli:{operator}"[:64],
        purpose=str(Purpose.SECURITY_INVESTIGATION),
        reason=reason,
        details=details or {},
    )
