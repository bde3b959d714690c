"""Ports: the register, the channels, and the one use case the capabilities above call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from rempart.kernel.context import ClientInfo
from rempart.kernel.throttling import Failures
from rempart.messages.model import Channel, Check, OfficialMessage, Verdict


class MessageRegister(Protocol):
    """Every official message sent to a person, and the verifications asked for."""

    def add(self, message: OfficialMessage) -> bool:
        """Keep a new entry; False when its idempotency key is already taken."""
        ...

    def get(self, reference: str) -> OfficialMessage | None:
        """An entry by its canonical reference (committed entries only, outside a unit of
        work: the dispatcher relies on it to send only what was registered)."""
        ...

    def by_key(self, key: str) -> OfficialMessage | None: ...
    def of_person(self, ft_id: str, limit: int) -> Sequence[OfficialMessage]:
        """The person's messages, newest first."""
        ...

    def mark_sent(self, reference: str, at: dt.datetime) -> bool:
        """Record the hand-over to the channel; False when it was already handed over (a
        message leaves once)."""
        ...

    def mark_delivered(self, reference: str, at: dt.datetime) -> None: ...
    def revoke(self, reference: str, at: dt.datetime) -> bool: ...

    def add_check(self, check: Check) -> None: ...
    def misses_since(self, since: dt.datetime, *, client_address: str = "") -> Failures:
        """Verifications that did not find a genuine message since ``since`` (for one address,
        or for everyone when no address is given), and when the last one was."""
        ...


class EmailChannel(Protocol):
    def send_email(self, to: str, subject: str, body: str, reference: str) -> None:
        """Send one mail carrying ``X-Rempart-Reference: reference``; raises on failure."""
        ...


class SmsChannel(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...


class LetterChannel(Protocol):
    def print_letter(self, reference: str, address: str, subject: str, body: str) -> None:
        """Produce the printable letter (to go into the post)."""
        ...


class Dispatcher(Protocol):
    """Where deliveries run: a worker thread in a server, at once in unit tests."""

    def submit(self, job: Callable[[], object]) -> None: ...


class OfficialMessages(Protocol):
    """What the capabilities above (citizen, incident) use to write to a person."""

    def send_official_message(
        self,
        ft_id: str,
        channel: Channel,
        subject: str,
        body: str,
        *,
        key: str = "",
        secrets: tuple[str, ...] = (),
    ) -> str:
        """Register, then send, one message; returns its reference (``XXXX-XXXX-XXXX``)."""
        ...

    def queue_official_message(
        self,
        ft_id: str,
        channel: Channel,
        subject: str,
        body: str,
        *,
        secrets: tuple[str, ...] = (),
    ) -> None:
        """The same, registered and sent later by the dispatcher: the caller's answer takes the
        same time whether or not a message goes out."""
        ...

    def verify(self, reference: str, client: ClientInfo) -> Verdict: ...
    def messages_of(self, ft_id: str) -> Sequence[OfficialMessage]: ...
    def revoke(self, reference: str) -> bool:
        """Stop vouching for a message sent in error; False when unknown or already revoked."""
        ...
