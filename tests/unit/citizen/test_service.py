"""'Who consulted my file' on memory twins: codes, sessions, the person's own accesses, flags.

ASVS 5.0: V6.3.1 (guessing a code is bounded: few tries per code, few codes per person and per
address), V6.5.x (one-time codes: random, short-lived, used once, stored as a keyed digest),
V8.2.2 (a person sees only the entries about themselves), V16.3.x (every step journaled).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass

import pytest

from rempart.citizen import service
from rempart.citizen.adapters.memory import MemoryCitizenStore
from rempart.citizen.service import CitizenDeps
from rempart.guard.adapters.memory_alerts import MemoryAlertStore
from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.model import JournalEntry
from rempart.kernel.actors import Organisation, OrgKind
from rempart.kernel.clock import ManualClock
from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import (
    CsrfRejected,
    InvalidRequest,
    NotFound,
    SessionRevoked,
    Throttled,
    Unauthenticated,
)
from rempart.kernel.tags import Decision, Tag
from rempart.mail.adapters.memory import MemoryMailer
from tests.factories import NOW, make_person
from tests.unit.messages.rig import messenger
from tests.unit.twins import MemoryPortalStore

CLIENT = ClientInfo("192.0.2.1", "Firefox")
ORG = Organisation("ORG-OF", OrgKind.TRAINING_BODY, "Formation Plus", "00000000000000")
PERSON = make_person(1)
OTHER = make_person(2)


@dataclass
class Rig:
    deps: CitizenDeps
    journal: MemoryJournal
    mailer: MemoryMailer
    alerts: MemoryAlertStore
    citizens: MemoryCitizenStore
    clock: ManualClock

    def code(self) -> str:
        match = re.search(r"Votre code : (\d{6})", self.mailer.outbox[-1].body)
        assert match is not None
        return match.group(1)

    def sign_in(self) -> service.OpenedCitizenSession:
        issued = service.request_code(self.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
        return service.verify_code(self.deps, issued.challenge_id, self.code(), CLIENT)

    def tags(self) -> list[Tag]:
        return [e.tag for e in self.journal.entries]


@pytest.fixture
def rig() -> Rig:
    portal = MemoryPortalStore()
    portal.add(ORG, PERSON, OTHER)
    journal, mailer, alerts = MemoryJournal(), MemoryMailer(), MemoryAlertStore()
    citizens, clock = MemoryCitizenStore(), ManualClock(NOW)
    deps = CitizenDeps(
        portal=portal,
        citizens=citizens,
        accesses=journal,
        journal=journal,
        alerts=alerts,
        messages=messenger(portal, mailer, clock),
        clock=clock,
        secret=b"k" * 32,
        max_attempts=3,
    )
    return Rig(deps, journal, mailer, alerts, citizens, clock)


def consultation(ft_id: str, *, agent: str = "of.agent", minutes: int = 0) -> JournalEntry:
    return JournalEntry(
        at=NOW - dt.timedelta(days=1, minutes=-minutes),
        tag=Tag.PORTAL_PERSON_READ,
        decision=Decision.ALLOW,
        agent_login=agent,
        agent_roles=("advisor",),
        org_id=ORG.id,
        session_id="s-agent",
        persons=(ft_id,),
        categories=("identity",),
        purpose="training_follow_up",
    )


def test_a_code_goes_to_the_person_and_is_stored_only_as_a_digest(rig: Rig) -> None:
    """V6.5.x: the code is mailed, never stored in clear, and expires."""
    issued = service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    assert [m.to for m in rig.mailer.outbox] == [PERSON.email]
    stored = rig.citizens.challenge(issued.challenge_id)
    assert stored is not None
    assert rig.code() not in stored.code_hash
    assert issued.expires_at == NOW + rig.deps.code_ttl
    assert rig.journal.entries[-1].tag is Tag.CITIZEN_CHALLENGE_SENT
    assert rig.journal.entries[-1].decision is Decision.ALLOW


def test_wrong_details_get_the_same_answer_and_no_mail(rig: Rig) -> None:
    """No enumeration: a stranger's details answer alike, and nothing typed can match."""
    issued = service.request_code(rig.deps, PERSON.ft_id, dt.date(1900, 1, 1), CLIENT)
    assert rig.mailer.outbox == []
    assert issued.expires_at == NOW + rig.deps.code_ttl
    assert rig.journal.entries[-1].decision is Decision.NOT_FOUND
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, issued.challenge_id, "000000", CLIENT)


def test_a_code_works_once(rig: Rig) -> None:
    """V6.5.x: a used code does not open a second session."""
    issued = service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    code = rig.code()
    opened = service.verify_code(rig.deps, issued.challenge_id, code, CLIENT)
    assert opened.session.ft_id == PERSON.ft_id
    assert opened.session.expires_at == NOW + rig.deps.session_ttl
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, issued.challenge_id, code, CLIENT)
    assert rig.tags()[-2:] == [Tag.CITIZEN_SESSION_OPENED, Tag.CITIZEN_CHALLENGE_FAILED]


def test_a_code_allows_a_few_tries_then_not_even_the_right_one(rig: Rig) -> None:
    """V6.3.1: after ``max_attempts`` wrong tries the challenge is dead."""
    issued = service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    code = rig.code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            service.verify_code(rig.deps, issued.challenge_id, wrong, CLIENT)
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, issued.challenge_id, code, CLIENT)
    stored = rig.citizens.challenge(issued.challenge_id)
    assert stored is not None
    assert stored.attempts == 4
    assert stored.consumed_at is None


def test_an_expired_or_unknown_code_is_refused(rig: Rig) -> None:
    issued = service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    code = rig.code()
    rig.clock.advance(rig.deps.code_ttl.total_seconds())
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, issued.challenge_id, code, CLIENT)
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, "x" * 65, code, CLIENT)
    with pytest.raises(Unauthenticated):
        service.verify_code(rig.deps, "no-such-challenge", code, CLIENT)


def test_codes_are_throttled_per_person(rig: Rig) -> None:
    """V6.3.1: a person's mailbox is not flooded: a few codes, then a wait."""
    for _ in range(3):
        service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    with pytest.raises(Throttled) as refused:
        service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, CLIENT)
    assert refused.value.retry_after > 0
    assert len(rig.mailer.outbox) == 3


def test_a_wrong_birth_date_never_delays_the_real_person(rig: Rig) -> None:
    """Pentest finding 5: requests for an ft_id with a wrong birth date, from anywhere, never
    throttle the person with the right one, and the real person still gets their mail: the
    throttle counts (ft_id, birth date) pairs and addresses, never an ft_id alone."""
    wrong = PERSON.birth_date + dt.timedelta(days=1)
    for i in range(6):  # past the pair's free requests, from several addresses
        abuser = ClientInfo(address=f"203.0.113.{i // 2 + 1}", user_agent="curl")
        with contextlib.suppress(Throttled):
            service.request_code(rig.deps, PERSON.ft_id, wrong, abuser)
    assert rig.mailer.outbox == []  # a mismatch mails nothing
    other = ClientInfo(address="198.51.100.77", user_agent="Firefox")
    service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, other)
    assert len(rig.mailer.outbox) == 1


def test_ipv6_code_requests_are_throttled_per_64(rig: Rig) -> None:
    """One /64 asking about many people is one address (finding 6)."""
    for n in range(10, 20):
        client = ClientInfo(address=f"2001:db8:7:7::{n:x}", user_agent="curl")
        service.request_code(rig.deps, make_person(n).ft_id, dt.date(1990, 1, 1), client)
    with pytest.raises(Throttled):
        service.request_code(
            rig.deps,
            make_person(20).ft_id,
            dt.date(1990, 1, 1),
            ClientInfo(address="2001:db8:7:7:ffff::1", user_agent="curl"),
        )


def test_codes_are_throttled_per_address(rig: Rig) -> None:
    """V6.3.1: one address asking about many people is slowed down too."""
    for n in range(10, 20):
        service.request_code(rig.deps, make_person(n).ft_id, dt.date(1990, 1, 1), CLIENT)
    with pytest.raises(Throttled):
        service.request_code(rig.deps, make_person(20).ft_id, dt.date(1990, 1, 1), CLIENT)


def test_resume_needs_a_live_session_and_csrf_on_writes(rig: Rig) -> None:
    opened = rig.sign_in()
    assert service.resume(rig.deps, opened.token, "GET", None, client=CLIENT) == opened.session
    assert (
        service.resume(rig.deps, opened.token, "POST", opened.csrf_token, client=CLIENT)
        == opened.session
    )
    with pytest.raises(CsrfRejected):
        service.resume(rig.deps, opened.token, "POST", "wrong", client=CLIENT)
    with pytest.raises(Unauthenticated):
        service.resume(rig.deps, None, "GET", None, client=CLIENT)
    rig.clock.advance(rig.deps.session_ttl.total_seconds())
    with pytest.raises(Unauthenticated):
        service.resume(rig.deps, opened.token, "GET", None, client=CLIENT)


def test_a_citizen_session_is_bound_like_an_agent_s(rig: Rig) -> None:
    """Pentest finding 6: the citizen's cookie from another address (IPv6: another /64) or
    another browser gets nothing, and the session ends (ASVS V7.2.1; agents' rule)."""
    same_64 = ClientInfo("2001:db8:5:5::1", "Firefox")
    issued = service.request_code(rig.deps, PERSON.ft_id, PERSON.birth_date, same_64)
    opened = service.verify_code(rig.deps, issued.challenge_id, rig.code(), same_64)
    rotated = ClientInfo("2001:db8:5:5:abcd::9", "Firefox")
    assert service.resume(rig.deps, opened.token, "GET", None, client=rotated) == opened.session
    with pytest.raises(SessionRevoked):
        service.resume(
            rig.deps, opened.token, "GET", None, client=ClientInfo("2001:db8:5:6::1", "Firefox")
        )
    with pytest.raises(Unauthenticated):  # ended: not even from the right place
        service.resume(rig.deps, opened.token, "GET", None, client=same_64)
    other = rig.sign_in()
    with pytest.raises(SessionRevoked):
        service.resume(rig.deps, other.token, "GET", None, client=ClientInfo("192.0.2.1", "curl/8"))
    assert Tag.CITIZEN_SESSION_REVOKED in rig.tags()


def test_end_session(rig: Rig) -> None:
    opened = rig.sign_in()
    service.end_session(rig.deps, opened.session)
    with pytest.raises(Unauthenticated):
        service.resume(rig.deps, opened.token, "GET", None, client=CLIENT)


def test_the_person_sees_only_agents_accesses_to_their_own_file(rig: Rig) -> None:
    """V8.2.2: someone else's consultations and the person's own reads are not listed."""
    rig.journal.append(
        [
            consultation(PERSON.ft_id, minutes=1),
            consultation(OTHER.ft_id, minutes=2),
            consultation(PERSON.ft_id, agent="", minutes=3),
            consultation(PERSON.ft_id, minutes=4),
        ]
    )
    opened = rig.sign_in()
    page = service.accesses(rig.deps, opened.session, CLIENT, 1)
    assert [i["seq"] for i in page["items"]] == [4, 1]
    assert page["next_page"] is None
    first = page["items"][0]
    assert first["organisation"] == "Formation Plus"
    assert first["role"] == "advisor"
    assert first["data_categories"] == ["identity"]
    assert "of.agent" not in str(page)  # the agent's login stays with the security team
    assert rig.journal.entries[-1].tag is Tag.CITIZEN_ACCESS_LOG_READ
    with pytest.raises(InvalidRequest):
        service.accesses(rig.deps, opened.session, CLIENT, 0)


def test_accesses_are_paged(rig: Rig) -> None:
    rig.journal.append([consultation(PERSON.ft_id, minutes=i) for i in range(25)])
    opened = rig.sign_in()
    first = service.accesses(rig.deps, opened.session, CLIENT, 1)
    assert len(first["items"]) == service.PAGE_SIZE
    assert first["next_page"] == 2
    second = service.accesses(rig.deps, opened.session, CLIENT, 2)
    assert [i["seq"] for i in second["items"]] == [5, 4, 3, 2, 1]
    assert second["next_page"] is None


def test_a_flag_raises_one_alert_for_the_security_team(rig: Rig) -> None:
    rig.journal.append([consultation(PERSON.ft_id)])
    opened = rig.sign_in()
    service.flag_access(rig.deps, opened.session, 1, "not me", CLIENT)
    service.flag_access(rig.deps, opened.session, 1, "again", CLIENT)
    (alert,) = rig.alerts.items
    assert (alert.rule, alert.agent_login, alert.org_id) == ("citizen_flag", "of.agent", ORG.id)
    assert alert.evidence["journal_seq"] == 1
    assert rig.citizens.flagged(PERSON.ft_id, 1)
    assert rig.tags().count(Tag.CITIZEN_ACCESS_FLAGGED) == 1


def test_a_person_flags_only_agents_accesses_to_their_own_file(rig: Rig) -> None:
    """V8.2.2: an entry about someone else, or without an agent, cannot be flagged."""
    rig.journal.append([consultation(OTHER.ft_id), consultation(PERSON.ft_id, agent="")])
    opened = rig.sign_in()
    for seq in (1, 2, 99):
        with pytest.raises(NotFound):
            service.flag_access(rig.deps, opened.session, seq, "", CLIENT)
    assert rig.alerts.items == []
