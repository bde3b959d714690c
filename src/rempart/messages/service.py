"""Official messages: register, then send; verify; list a person's own.

See ``model.py`` for the rules. ``send_official_message`` writes the register entry in the
caller's transaction and hands the delivery to the dispatcher, which sends only once the entry
is visible outside that transaction (committed): a use case that rolls back sends nothing, and
no message ever leaves without its entry. The delivery records when the message was handed to
its channel (once: a message never leaves twice) and when the channel accepted it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import InvalidRequest, NotFound, PolicyError, Throttled
from rempart.kernel.identifiers import parse_ft_id
from rempart.kernel.ports import Clock
from rempart.messages.model import (
    CHECKS_GLOBAL_MISSES,
    CHECKS_GLOBAL_WINDOW,
    CHECKS_PER_ADDRESS,
    Channel,
    Check,
    OfficialMessage,
    Outgoing,
    Verdict,
    content_hash,
    display,
    has_link,
    masked,
    new_reference,
    official_body,
    parse_reference,
    sms_text,
)
from rempart.messages.ports import (
    Dispatcher,
    EmailChannel,
    LetterChannel,
    MessageRegister,
    SmsChannel,
)
from rempart.people.model import Person
from rempart.people.ports import PortalStore

log = logging.getLogger("rempart.messages")

MAX_LISTED = 200
# Looked up when the text cannot be a reference, so that the work stays the same.
_NO_REFERENCE = "~"


class Unreachable(InvalidRequest):
    """The person has no address on file for that channel."""


@dataclass(frozen=True, slots=True)
class MessagesDeps:
    register: MessageRegister
    portal: PortalStore
    email: EmailChannel
    sms: SmsChannel
    letters: LetterChannel
    dispatcher: Dispatcher
    clock: Clock
    key: bytes  # keys the content hashes
    official_address: str  # what people are told to type, e.g. "rempart.example.fr/citoyen"
    register_wait_seconds: float = 60.0  # how long a delivery waits for its entry's commit
    tries: int = 3


def send_official_message(
    deps: MessagesDeps,
    ft_id: str,
    channel: Channel | str,
    subject: str,
    body: str,
    *,
    key: str = "",
    secrets: tuple[str, ...] = (),
) -> str:
    """Register one message to the person, then have it sent; returns its reference.

    ``key``: the caller's idempotency key; a second call with the same key sends nothing and
    returns the first call's reference (a resumed bulk send never writes twice to anyone).
    ``secrets``: parts of ``body`` the register must not keep (a one-time code): masked there.
    """
    ft_id = parse_ft_id(ft_id)
    try:
        channel = Channel(channel)
    except ValueError:
        raise InvalidRequest("channel is email, sms or letter") from None
    subject = subject.strip()
    if not subject or len(subject) > 200 or any(c in subject for c in "\r\n"):
        raise InvalidRequest("subject: one line of 1 to 200 characters")
    if has_link(subject) or has_link(body):
        raise PolicyError("a message to a person carries no link: name the address to type")
    if len(key) > 128:
        raise InvalidRequest("key: at most 128 characters")
    if key and (earlier := deps.register.by_key(key)) is not None:
        return display(earlier.reference)
    person = deps.portal.person_by_ft_id(ft_id)
    if person is None:
        raise NotFound()
    recipient = _recipient(person, channel)
    reference = new_reference()
    text = (
        sms_text(body, reference, deps.official_address)
        if channel is Channel.SMS
        else official_body(body, reference, deps.official_address)
    )
    entry = OfficialMessage(
        reference=reference,
        ft_id=ft_id,
        channel=channel,
        subject=subject,
        content_hash=content_hash(deps.key, channel, subject, text),
        body=masked(text, secrets),
        registered_at=deps.clock.now(),
        key=key,
    )
    if not deps.register.add(entry):  # another caller registered the same key just now
        earlier = deps.register.by_key(key)
        return display(earlier.reference) if earlier else display(reference)
    deps.dispatcher.submit(
        partial(deliver, deps, Outgoing(reference, channel, recipient, subject, text))
    )
    return display(reference)


def _recipient(person: Person, channel: Channel) -> str:
    if channel is Channel.EMAIL:
        address = person.email
    elif channel is Channel.SMS:
        address = person.phone
    else:
        a = person.address
        lines = [f"{person.first_name} {person.last_name}", a.line, f"{a.postcode} {a.city}"]
        address = "\n".join(x.strip() for x in lines if x.strip()) if a.line and a.city else ""
    if not address:
        raise Unreachable(f"no {channel} address on file for this person")
    return address


def deliver(deps: MessagesDeps, outgoing: Outgoing) -> bool:
    """Send one registered message (the dispatcher runs this); True when the channel took it.

    Waits for the entry to be visible (its transaction committed); an entry that never shows
    (the caller rolled back) is not sent. Handed over once: a second delivery does nothing.
    """
    deadline = time.monotonic() + deps.register_wait_seconds
    pause = 0.01
    while deps.register.get(outgoing.reference) is None:
        if time.monotonic() >= deadline:
            log.warning("message %s never registered: not sent", display(outgoing.reference))
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
    if not deps.register.mark_sent(outgoing.reference, deps.clock.now()):
        return False
    for attempt in range(1, deps.tries + 1):
        try:
            _hand_over(deps, outgoing)
        except Exception as exc:  # noqa: BLE001 - a channel problem is retried, then logged
            # Never the body: it may hold a one-time code.
            log.warning(
                "message %s not sent (try %d/%d): %s",
                display(outgoing.reference),
                attempt,
                deps.tries,
                type(exc).__name__,
            )
            if attempt < deps.tries:
                time.sleep(0.5 * attempt)
            continue
        deps.register.mark_delivered(outgoing.reference, deps.clock.now())
        return True
    return False


def _hand_over(deps: MessagesDeps, m: Outgoing) -> None:
    if m.channel is Channel.EMAIL:
        deps.email.send_email(m.recipient, m.subject, m.body, display(m.reference))
    elif m.channel is Channel.SMS:
        deps.sms.send_sms(m.recipient, m.body)
    else:
        deps.letters.print_letter(display(m.reference), m.recipient, m.subject, m.body)


def verify(deps: MessagesDeps, reference: str, client: ClientInfo) -> Verdict:
    """Did this message come from us? The same work and the same "no" for a malformed, an
    unknown and a revoked reference; misses are throttled per address and for everyone."""
    now = deps.clock.now()
    mine = deps.register.misses_since(
        now - CHECKS_PER_ADDRESS.forget_after, client_address=client.address
    )
    everyone = deps.register.misses_since(now - CHECKS_GLOBAL_WINDOW)
    wait = CHECKS_PER_ADDRESS.retry_after(mine, now)
    if everyone.count >= CHECKS_GLOBAL_MISSES:
        wait = max(wait, 60)
    if wait > 0:
        raise Throttled("too many references checked: try again later", wait)
    canonical = parse_reference(reference)
    found = deps.register.get(canonical if canonical else _NO_REFERENCE)
    genuine = found is not None and found.revoked_at is None
    deps.register.add_check(Check(client.address, now, genuine))
    return Verdict(found if genuine else None)


def messages_of(deps: MessagesDeps, ft_id: str) -> Sequence[OfficialMessage]:
    """Every message sent to the person, newest first (their own space only)."""
    return deps.register.of_person(ft_id, MAX_LISTED)


def revoke(deps: MessagesDeps, reference: str) -> bool:
    """Stop vouching for a message (sent in error): it then verifies as "not from us"."""
    canonical = parse_reference(reference)
    return bool(canonical) and deps.register.revoke(canonical or "", deps.clock.now())


class Messenger:
    """Implements ``OfficialMessages``: the use cases above for the capabilities above."""

    def __init__(self, deps: MessagesDeps) -> None:
        self.deps = deps

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
        """See ``send_official_message``."""
        return send_official_message(
            self.deps, ft_id, channel, subject, body, key=key, secrets=secrets
        )

    def queue_official_message(
        self,
        ft_id: str,
        channel: Channel,
        subject: str,
        body: str,
        *,
        secrets: tuple[str, ...] = (),
    ) -> None:
        """Register and send on the dispatcher, in a transaction of its own (committed before
        the message leaves): for senders whose answer must not show, by its time, whether a
        message was sent (a one-time code asked for someone who may not exist)."""
        self.deps.dispatcher.submit(
            partial(
                send_official_message,
                self.deps,
                ft_id,
                channel,
                subject,
                body,
                secrets=secrets,
            )
        )

    def verify(self, reference: str, client: ClientInfo) -> Verdict:
        """See ``verify``."""
        return verify(self.deps, reference, client)

    def messages_of(self, ft_id: str) -> Sequence[OfficialMessage]:
        """See ``messages_of``."""
        return messages_of(self.deps, ft_id)

    def revoke(self, reference: str) -> bool:
        """See ``revoke``."""
        return revoke(self.deps, reference)
