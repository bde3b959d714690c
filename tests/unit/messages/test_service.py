"""Official messages on memory twins: the register written first, the reference in every
message, no link, idempotent sends, and verification that is no oracle.

ASVS 5.0: V6.3.1 / V2.4.1 (guessing references is throttled per address and for everyone),
V11.2.x (references from the CSPRNG, 12 characters from 34), V16.3.x (every message sent is
registered before it leaves), V14.2.x (the register keeps no one-time code, only a keyed hash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import InvalidRequest, NotFound, PolicyError, Throttled
from rempart.mail.adapters.memory import MemoryMailer
from rempart.messages import model, service
from rempart.messages.adapters.channels import MemoryLetterChannel, MemorySmsChannel
from rempart.messages.adapters.memory import MemoryMessageRegister
from rempart.messages.model import Channel
from rempart.messages.service import MessagesDeps
from tests.factories import NOW, make_person
from tests.unit.messages.rig import OFFICIAL_ADDRESS, messages_deps
from tests.unit.twins import MemoryPortalStore

PERSON = make_person(1)
NO_MAIL = make_person(2, email="")
CLIENT = ClientInfo("192.0.2.7", "Firefox")
SHAPE = re.compile(r"Référence : ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})")


@dataclass
class Rig:
    deps: MessagesDeps
    register: MemoryMessageRegister
    mailer: MemoryMailer
    sms: MemorySmsChannel
    letters: MemoryLetterChannel
    clock: ManualClock

    def send(self, channel: Channel = Channel.EMAIL, **kw: object) -> str:
        return service.send_official_message(
            self.deps,
            PERSON.ft_id,
            channel,
            "Votre dossier",
            "Bonjour,\n\nTexte.",
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture
def rig() -> Rig:
    portal = MemoryPortalStore()
    portal.add(PERSON, NO_MAIL)
    register, mailer, clock = MemoryMessageRegister(), MemoryMailer(), ManualClock(NOW)
    sms, letters = MemorySmsChannel(), MemoryLetterChannel()
    deps = messages_deps(portal, mailer, clock, register=register, sms=sms, letters=letters)
    return Rig(deps, register, mailer, sms, letters, clock)


def test_references_are_twelve_characters_of_the_unambiguous_alphabet_grouped_by_four() -> None:
    refs = {model.new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    for ref in refs:
        assert re.fullmatch(r"[A-Z2-9]{12}", ref)
        assert not set(ref) & set("01")
    shown = model.display(next(iter(refs)))
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    assert model.parse_reference(shown.lower().replace("-", " ")) == shown.replace("-", "")
    for bad in ("", "ABCD-EFGH-IJK", "ABCD-EFGH-IJK0", "ABCD-EFGH-IJKLM", "x" * 10_000):
        assert model.parse_reference(bad) is None


def test_an_email_carries_its_reference_in_body_and_header_and_is_registered(rig: Rig) -> None:
    ref = rig.send()
    [mail] = rig.mailer.outbox
    assert mail.to == PERSON.email
    assert SHAPE.search(mail.body)
    assert SHAPE.search(mail.body).group(1) == ref  # type: ignore[union-attr]
    assert mail.headers == {"X-Rempart-Reference": ref}
    assert OFFICIAL_ADDRESS in mail.body
    assert not model.has_link(mail.body)
    entry = rig.register.get(ref.replace("-", ""))
    assert entry is not None
    assert (entry.ft_id, entry.channel, entry.subject) == (
        PERSON.ft_id,
        Channel.EMAIL,
        "Votre dossier",
    )
    assert entry.registered_at == entry.sent_at == entry.delivered_at == NOW
    assert entry.content_hash == model.content_hash(
        b"m" * 32, Channel.EMAIL, mail.subject, mail.body
    )


def test_sms_and_letter_carry_the_reference_too(rig: Rig) -> None:
    sms_ref = rig.send(Channel.SMS)
    letter_ref = rig.send(Channel.LETTER)
    [sms] = rig.sms.sent
    assert sms.phone == PERSON.phone
    assert f"Référence : {sms_ref}" in sms.text
    [letter] = rig.letters.printed
    assert letter.reference == letter_ref
    assert f"Référence : {letter_ref}" in letter.body
    assert PERSON.address.city in letter.address
    assert PERSON.last_name in letter.printable()


def test_a_message_is_registered_before_it_leaves(rig: Rig) -> None:
    seen: list[bool] = []
    original = rig.mailer.send

    def spy(to: str, subject: str, body: str, headers: object = None) -> None:
        ref = SHAPE.search(body).group(1).replace("-", "")  # type: ignore[union-attr]
        seen.append(rig.register.get(ref) is not None)
        original(to, subject, body, headers)  # type: ignore[arg-type]

    rig.mailer.send = spy  # type: ignore[method-assign]
    rig.send()
    assert seen == [True]


def test_an_unregistered_message_never_leaves(rig: Rig) -> None:
    outgoing = model.Outgoing("ABCDEFGH2345", Channel.EMAIL, PERSON.email, "s", "b")
    assert service.deliver(rig.deps, outgoing) is False
    assert rig.mailer.outbox == []


def test_the_register_keeps_no_secret_but_the_mail_has_it(rig: Rig) -> None:
    ref = service.send_official_message(
        rig.deps, PERSON.ft_id, Channel.EMAIL, "Code", "Votre code : 424242", secrets=("424242",)
    )
    assert "424242" in rig.mailer.outbox[-1].body
    entry = rig.register.get(ref.replace("-", ""))
    assert entry is not None
    assert "424242" not in entry.body
    assert model.MASK in entry.body


def test_the_same_key_sends_once_and_returns_the_same_reference(rig: Rig) -> None:
    first = rig.send(Channel.LETTER, key="incident-7:0000001A")
    again = rig.send(Channel.LETTER, key="incident-7:0000001A")
    assert first == again
    assert len(rig.letters.printed) == 1
    other = rig.send(Channel.LETTER, key="incident-7:0000002B")
    assert other != first
    assert len(rig.letters.printed) == 2


def test_a_delivery_hands_over_once(rig: Rig) -> None:
    ref = rig.send()
    outgoing = model.Outgoing(ref.replace("-", ""), Channel.EMAIL, PERSON.email, "s", "b")
    assert service.deliver(rig.deps, outgoing) is False
    assert len(rig.mailer.outbox) == 1


@pytest.mark.parametrize(
    "body", ["Allez sur https://faux.example", "www.faux.example", "<a href='x'>ici</a>"]
)
def test_messages_to_people_carry_no_link(rig: Rig, body: str) -> None:
    with pytest.raises(PolicyError):
        service.send_official_message(rig.deps, PERSON.ft_id, Channel.EMAIL, "Objet", body)
    assert rig.mailer.outbox == []
    assert rig.register.messages == {}


def test_bad_inputs_are_refused_before_anything_is_written(rig: Rig) -> None:
    with pytest.raises(InvalidRequest):
        service.send_official_message(rig.deps, "nope", Channel.EMAIL, "Objet", "b")
    with pytest.raises(InvalidRequest):
        service.send_official_message(rig.deps, PERSON.ft_id, "fax", "Objet", "b")
    with pytest.raises(InvalidRequest):
        service.send_official_message(rig.deps, PERSON.ft_id, Channel.EMAIL, "a\r\nBcc: x", "b")
    with pytest.raises(service.Unreachable):
        service.send_official_message(rig.deps, NO_MAIL.ft_id, Channel.EMAIL, "Objet", "b")
    with pytest.raises(NotFound):
        service.send_official_message(rig.deps, "9999999Z", Channel.EMAIL, "Objet", "b")
    assert rig.register.messages == {}
    assert rig.mailer.outbox == []


def test_verify_says_genuine_with_when_how_and_what(rig: Rig) -> None:
    ref = rig.send()
    verdict = service.verify(rig.deps, ref.lower(), CLIENT)
    assert verdict.genuine
    assert verdict.message is not None
    assert (verdict.message.channel, verdict.message.subject) == (Channel.EMAIL, "Votre dossier")


def test_malformed_unknown_and_revoked_get_the_same_no(rig: Rig) -> None:
    revoked = rig.send()
    assert service.revoke(rig.deps, revoked)
    answers = [
        service.verify(rig.deps, text, CLIENT)
        for text in ("n'importe quoi", "ZZZZ-ZZZZ-ZZZZ", revoked)
    ]
    assert answers == [model.Verdict(None)] * 3
    assert [c.genuine for c in rig.register.checks] == [False, False, False]


def test_guessing_is_throttled_per_address(rig: Rig) -> None:
    for _ in range(model.CHECKS_PER_ADDRESS.free):
        service.verify(rig.deps, "ZZZZ-ZZZZ-ZZZZ", CLIENT)
    with pytest.raises(Throttled) as caught:
        service.verify(rig.deps, rig.send(), CLIENT)  # even a genuine one: no oracle
    assert caught.value.retry_after >= 1
    # Another address is not held back by this one's guesses.
    assert service.verify(rig.deps, "ZZZZ-ZZZZ-ZZZZ", ClientInfo("198.51.100.9")).genuine is False
    rig.clock.advance(model.CHECKS_PER_ADDRESS.forget_after.total_seconds())
    assert service.verify(rig.deps, "ZZZZ-ZZZZ-ZZZZ", CLIENT).genuine is False


def test_guessing_is_throttled_for_everyone_together(rig: Rig) -> None:
    for n in range(model.CHECKS_GLOBAL_MISSES):
        rig.register.add_check(model.Check(f"10.0.{n // 250}.{n % 250}", NOW, False))
    with pytest.raises(Throttled):
        service.verify(rig.deps, "ZZZZ-ZZZZ-ZZZZ", ClientInfo("203.0.113.5"))
    rig.clock.advance(model.CHECKS_GLOBAL_WINDOW.total_seconds() + 1)
    assert service.verify(rig.deps, "ZZZZ-ZZZZ-ZZZZ", ClientInfo("203.0.113.5")).genuine is False


def test_a_person_sees_their_own_messages_newest_first(rig: Rig) -> None:
    first = rig.send()
    rig.clock.advance(60)
    second = rig.send(Channel.LETTER)
    mine = service.messages_of(rig.deps, PERSON.ft_id)
    assert [m.display_reference for m in mine] == [second, first]
    assert service.messages_of(rig.deps, NO_MAIL.ft_id) == []
