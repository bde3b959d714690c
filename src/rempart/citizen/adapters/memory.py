"""``MemoryCitizenStore``: one-time codes, sessions and flags in one process."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

from rempart.citizen.model import CitizenChallenge, CitizenFlag, CitizenSession
from rempart.kernel.throttling import Failures


class MemoryCitizenStore:
    """Implements ``CitizenStore`` in memory, with the SQL store's rules: a challenge counts
    its tries and is consumed once, a person flags an entry once, addresses are kept to 64
    characters as the column does."""

    def __init__(self) -> None:
        self.challenges: dict[str, CitizenChallenge] = {}
        self.sessions: dict[str, CitizenSession] = {}
        self.flags: dict[tuple[str, int], CitizenFlag] = {}
        self._lock = threading.Lock()

    def add_challenge(self, challenge: CitizenChallenge) -> None:
        """Keep a new challenge (an id is used once)."""
        with self._lock:
            if challenge.id in self.challenges:
                raise ValueError(f"challenge {challenge.id!r} already exists")
            self.challenges[challenge.id] = replace(
                challenge, client_address=challenge.client_address[:64]
            )

    def challenge(self, challenge_id: str) -> CitizenChallenge | None:
        """One challenge by id."""
        with self._lock:
            return self.challenges.get(challenge_id)

    def challenges_since(
        self, since: dt.datetime, *, pair_key: str = "", client_address: str = ""
    ) -> Failures:
        """Codes asked for since ``since``, per (ft_id, birth date) pair or per address."""
        with self._lock:
            times = [
                c.created_at
                for c in self.challenges.values()
                if c.created_at >= since
                and (not pair_key or c.pair_key == pair_key)
                and (not client_address or c.client_address == client_address[:64])
            ]
        return Failures(count=len(times), last_at=max(times, default=None))

    def record_attempt(self, challenge_id: str) -> int:
        """One more try at the code; return the new count (an unknown id is an error)."""
        with self._lock:
            c = self.challenges[challenge_id]
            self.challenges[challenge_id] = c = replace(c, attempts=c.attempts + 1)
            return c.attempts

    def consume(self, challenge_id: str, at: dt.datetime) -> bool:
        """Use a challenge up; only the first caller succeeds."""
        with self._lock:
            c = self.challenges.get(challenge_id)
            if c is None or c.consumed_at is not None:
                return False
            self.challenges[challenge_id] = replace(c, consumed_at=at)
            return True

    def add_session(self, session: CitizenSession) -> None:
        """Keep a new session."""
        with self._lock:
            self.sessions[session.token_hash] = session

    def session(self, token_hash: str) -> CitizenSession | None:
        """A session by the digest of its token."""
        with self._lock:
            return self.sessions.get(token_hash)

    def end_session(self, token_hash: str) -> None:
        """Forget a session."""
        with self._lock:
            self.sessions.pop(token_hash, None)

    def flagged(self, ft_id: str, seq: int) -> bool:
        """True when the person already flagged that entry."""
        with self._lock:
            return (ft_id, seq) in self.flags

    def add_flag(self, flag: CitizenFlag) -> bool:
        """Keep a flag; False when the person already flagged that entry."""
        with self._lock:
            if (flag.ft_id, flag.seq) in self.flags:
                return False
            self.flags[(flag.ft_id, flag.seq)] = flag
            return True
