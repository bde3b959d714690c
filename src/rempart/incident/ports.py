"""Ports of incident response: what its use cases need, named for their role.

The journal side (``ScopedEntries``, ``ProofSource``) is the journal's own ports; the people
side is one lookup. Incidents, their letters and the channel that delivers them are here, each
with a memory twin in ``adapters/memory.py``.
"""

from __future__ import annotations

from typing import Protocol

from rempart.people.model import Person


class PersonDirectory(Protocol):
    """Who a person is and where to write to them (the people capability's store)."""

    def person_by_ft_id(self, ft_id: str) -> Person | None: ...
