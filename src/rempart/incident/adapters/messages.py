"""``OfficialLetterChannel``: the letters go out as official messages (issue 14's register).

Each letter is registered before it leaves, carries its reference in the body and the
``X-Rempart-Reference`` header, and the register's idempotency key makes a second attempt with
the same key send nothing. What became of a letter is read back from the person's register.
"""

from __future__ import annotations

from rempart.incident.ports import Delivery, OutgoingLetter
from rempart.kernel.errors import InvalidRequest, NotFound
from rempart.messages.model import Channel, OfficialMessage, display
from rempart.messages.ports import OfficialMessages


def _delivery(message: OfficialMessage) -> Delivery:
    return Delivery(
        display(message.reference), message.sent_at is not None, message.delivered_at is not None
    )


class OfficialLetterChannel:
    """Implements ``LetterChannel`` with the official messages' use case."""

    def __init__(self, messages: OfficialMessages) -> None:
        self.messages = messages

    def deliver(self, letter: OutgoingLetter) -> Delivery:
        """Register, then send (the messages' dispatcher here runs it at once)."""
        try:
            reference = self.messages.send_official_message(
                letter.ft_id,
                Channel(letter.channel),
                letter.subject,
                letter.body,
                key=letter.idempotency_key,
            )
        except (InvalidRequest, NotFound):  # no address of that kind on file: unreachable
            return Delivery("", handed_over=False, delivered=False)
        found = self.lookup(letter.ft_id, letter.idempotency_key)
        return found or Delivery(reference, handed_over=False, delivered=False)

    def lookup(self, ft_id: str, idempotency_key: str) -> Delivery | None:
        """What the register says of the letter with this key."""
        for message in self.messages.messages_of(ft_id):
            if message.key == idempotency_key:
                return _delivery(message)
        return None
