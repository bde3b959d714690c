"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from rempart.citizen.model import CitizenChallenge, CitizenFlag, CitizenSession
from rempart.kernel.throttling import Failures


class CitizenStore(Protocol):
    """One-time codes, sessions and flags of people looking at their own accesses."""

    def add_challenge(self, challenge: CitizenChallenge) -> None: ...
    def challenge(self, challenge_id: str) -> CitizenChallenge | None: ...

    def challenges_since(
        self, since: dt.datetime, *, pair_key: str = "", client_address: str = ""
    ) -> Failures:
        """How many codes were asked for (per (ft_id, birth date) pair or per address) since
        then, and when the last one was: what throttling counts."""
        ...

    def record_attempt(self, challenge_id: str) -> int:
        """Count one more try at a challenge's code, atomically; return the new count."""
        ...

    def consume(self, challenge_id: str, at: dt.datetime) -> bool:
        """Mark a challenge used; False when it already was (a code works once)."""
        ...

    def add_session(self, session: CitizenSession) -> None: ...
    def session(self, token_hash: str) -> CitizenSession | None: ...
    def end_session(self, token_hash: str) -> None: ...
    def flagged(self, ft_id: str, seq: int) -> bool: ...
    def add_flag(self, flag: CitizenFlag) -> bool:
        """Keep a flag; False when the person already flagged that entry."""
        ...
