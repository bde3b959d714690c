""" "Who consulted my file": a person sees, and can question, every access to their own data.

See ``domain/citizen.py`` for the rules. Every step is journaled too (the person's own reads
are entries without an agent, so they never show up as "consultations" in their own list).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from rempart.citizen.model import (
    CHALLENGES_PER_ADDRESS,
    CHALLENGES_PER_PAIR,
    CODE_DIGITS,
    CitizenChallenge,
    CitizenFlag,
    CitizenSession,
    action_label,
    code_digest,
    is_code,
    pair_key,
)
from rempart.citizen.ports import CitizenStore
from rempart.guard.alerts import Alert, Severity
from rempart.guard.ports import AlertSink
from rempart.journal.entries import citizen_entry
from rempart.journal.model import format_time
from rempart.journal.ports import JournalWriter, PersonAccesses
from rempart.kernel.context import ClientInfo
from rempart.kernel.errors import (
    CsrfRejected,
    InvalidRequest,
    NotFound,
    SessionRevoked,
    Throttled,
    Unauthenticated,
)
from rempart.kernel.identifiers import parse_ft_id
from rempart.kernel.ports import Clock
from rempart.kernel.tags import Decision, Tag
from rempart.messages.model import Channel
from rempart.messages.ports import OfficialMessages
from rempart.people.ports import PortalStore
from rempart.signin.model import bound_address, digest

PAGE_SIZE = 20
_WRONG = "the code is wrong, used or expired: ask for a new one"
# Compared against when the challenge does not exist, so that the work stays the same.
_NO_CHALLENGE = "0" * 64


@dataclass(frozen=True, slots=True)
class CitizenDeps:
    portal: PortalStore
    citizens: CitizenStore
    accesses: PersonAccesses
    journal: JournalWriter
    alerts: AlertSink
    # Codes go out as official messages (registered, with their reference), queued: the
    # answer's timing must not tell whether a mail was sent.
    messages: OfficialMessages
    clock: Clock
    secret: bytes
    code_ttl: dt.timedelta = dt.timedelta(minutes=10)
    session_ttl: dt.timedelta = dt.timedelta(minutes=15)
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    challenge_id: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OpenedCitizenSession:
    token: str
    csrf_token: str
    session: CitizenSession


def request_code(
    deps: CitizenDeps, ft_id: str, birth_date: dt.date, client: ClientInfo
) -> IssuedChallenge:
    """Mail a one-time code to the person, if these are their details; answer the same anyway."""
    ft_id = parse_ft_id(ft_id)
    now = deps.clock.now()
    pair = pair_key(deps.secret, ft_id, birth_date)
    address = bound_address(client.address)  # an IPv6 client counts by its /64
    _throttle(deps, pair, address, now)
    person = deps.portal.person_by_ft_id(ft_id)
    # A canary is nobody: it never receives a code (its mailbox would tell it exists).
    matches = (
        person is not None
        and not person.is_canary
        and person.birth_date == birth_date
        and bool(person.email)
    )
    challenge_id = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    # A mismatch stores the digest of something that is not a code: nothing typed can match.
    secret_input = code if matches else secrets.token_hex(16)
    challenge = CitizenChallenge(
        id=challenge_id,
        ft_id=ft_id,
        client_address=address,
        created_at=now,
        expires_at=now + deps.code_ttl,
        code_hash=code_digest(deps.secret, challenge_id, secret_input),
        pair_key=pair,
    )
    deps.citizens.add_challenge(challenge)
    deps.journal.append(
        [
            citizen_entry(
                now,
                Tag.CITIZEN_CHALLENGE_SENT,
                Decision.ALLOW if matches else Decision.NOT_FOUND,
                client,
                ft_id=ft_id,
                reason="" if matches else "details do not match",
            )
        ]
    )
    if matches and person is not None:
        minutes = int(deps.code_ttl.total_seconds() // 60)
        deps.messages.queue_official_message(
            ft_id,
            Channel.EMAIL,
            "Votre code pour consulter les accès à votre dossier",
            f"Bonjour,\n\nVotre code : {code}\n\nIl est valable {minutes} minutes et ne sert "
            "qu'une fois. Si vous n'avez rien demandé, ignorez ce message : personne ne peut "
            "voir vos accès sans ce code.\n",
            secrets=(code,),
        )
    return IssuedChallenge(challenge_id, challenge.expires_at)


def _throttle(deps: CitizenDeps, pair: str, address: str, now: dt.datetime) -> None:
    """Per (ft_id, birth date) pair and per address, never per ft_id alone (finding 5)."""
    for policy, key in ((CHALLENGES_PER_PAIR, "pair"), (CHALLENGES_PER_ADDRESS, "address")):
        since = now - policy.forget_after
        seen = (
            deps.citizens.challenges_since(since, pair_key=pair)
            if key == "pair"
            else deps.citizens.challenges_since(since, client_address=address)
        )
        wait = policy.retry_after(seen, now)
        if wait > 0:
            raise Throttled("too many codes asked for: try again later", wait)


def verify_code(
    deps: CitizenDeps, challenge_id: str, code: str, client: ClientInfo
) -> OpenedCitizenSession:
    """Exchange a valid code for a short session; each challenge allows a few tries, once."""
    now = deps.clock.now()
    challenge = deps.citizens.challenge(challenge_id) if len(challenge_id) <= 64 else None
    expected = challenge.code_hash if challenge else _NO_CHALLENGE
    # Same work whether or not the challenge exists, and a comparison in constant time.
    offered = code_digest(deps.secret, challenge_id, code if is_code(code) else "")
    right = hmac.compare_digest(offered, expected)
    usable = (
        challenge is not None
        and challenge.consumed_at is None
        and now < challenge.expires_at
        and deps.citizens.record_attempt(challenge.id) <= deps.max_attempts
    )
    if not (right and usable and challenge and deps.citizens.consume(challenge.id, now)):
        deps.journal.append(
            [
                citizen_entry(
                    now,
                    Tag.CITIZEN_CHALLENGE_FAILED,
                    Decision.DENY,
                    client,
                    ft_id=challenge.ft_id if challenge else "",
                    reason="wrong code" if usable else "unknown, used or expired challenge",
                )
            ]
        )
        raise Unauthenticated(_WRONG)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session = CitizenSession(
        token_hash=digest(token),
        csrf_hash=digest(csrf),
        ft_id=challenge.ft_id,
        created_at=now,
        expires_at=now + deps.session_ttl,
        bound_address=bound_address(client.address),
        user_agent=client.user_agent[:512],
    )
    deps.citizens.add_session(session)
    deps.journal.append(
        [
            citizen_entry(
                now,
                Tag.CITIZEN_SESSION_OPENED,
                Decision.ALLOW,
                client,
                ft_id=challenge.ft_id,
                session_id=session.public_id,
            )
        ]
    )
    return OpenedCitizenSession(token, csrf, session)


def resume(
    deps: CitizenDeps,
    token: str | None,
    method: str,
    csrf_token: str | None,
    *,
    client: ClientInfo,
) -> CitizenSession:
    """The person's live session; unsafe methods must carry the CSRF token given at sign-in.

    Bound like an agent's session: from another address (an IPv6 one: another /64) or another
    browser, the session ends at once and the request gets nothing (a person signs in again
    with a new code: there is no step-up here)."""
    session = deps.citizens.session(digest(token)) if token else None
    if session is None or deps.clock.now() >= session.expires_at:
        raise Unauthenticated("sign in with a code first")
    if (
        session.bound_address != bound_address(client.address)
        or session.user_agent != client.user_agent[:512]
    ):
        deps.citizens.end_session(session.token_hash)
        deps.journal.append(
            [
                citizen_entry(
                    deps.clock.now(),
                    Tag.CITIZEN_SESSION_REVOKED,
                    Decision.REVOKE,
                    client,
                    ft_id=session.ft_id,
                    reason="another address or browser",
                )
            ]
        )
        raise SessionRevoked("this session was opened from another network or browser")
    if method not in ("GET", "HEAD", "OPTIONS") and not (
        csrf_token and hmac.compare_digest(digest(csrf_token), session.csrf_hash)
    ):
        raise CsrfRejected("missing or wrong X-CSRF-Token")
    return session


def end_session(deps: CitizenDeps, session: CitizenSession) -> None:
    """Sign out."""
    deps.citizens.end_session(session.token_hash)


def accesses(
    deps: CitizenDeps, session: CitizenSession, client: ClientInfo, page: int
) -> dict[str, Any]:
    """One page of the accesses to the person's file by partner organisations, newest first.

    Each shows the organisation and the agent's role, not the agent's login: that is the
    agency's internal data, and it is in the journal for the security team.
    """
    if page < 1 or page > 100_000:
        raise InvalidRequest("page starts at 1")
    if deps.portal.person_by_ft_id(session.ft_id) is None:
        # Erased at the end of its retention: the portal holds nothing more about the person
        # (the journal's past entries about them go with the journal's own retention).
        deps.journal.append(
            [
                citizen_entry(
                    deps.clock.now(),
                    Tag.CITIZEN_ACCESS_LOG_READ,
                    Decision.NOT_FOUND,
                    client,
                    ft_id=session.ft_id,
                    session_id=session.public_id,
                    reason="nothing on file",
                )
            ]
        )
        return {"items": [], "next_page": None, "nothing_on_file": True}
    found = deps.accesses.who_consulted(
        session.ft_id, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1, by_agents_only=True
    )
    names: dict[str, str] = {}
    items = []
    for stored in found[:PAGE_SIZE]:
        e = stored.entry
        if e.org_id not in names:
            org = deps.portal.organisation(e.org_id)
            names[e.org_id] = org.name if org else e.org_id
        items.append(
            {
                "seq": stored.seq,
                "at": format_time(e.at),
                "organisation": names[e.org_id],
                "role": ", ".join(e.agent_roles),
                "action": str(e.tag),
                "action_label": action_label(e.tag),
                "purpose": e.purpose,
                "decision": str(e.decision),
                "data_categories": list(e.categories) if e.decision is Decision.ALLOW else [],
            }
        )
    deps.journal.append(
        [
            citizen_entry(
                deps.clock.now(),
                Tag.CITIZEN_ACCESS_LOG_READ,
                Decision.ALLOW,
                client,
                ft_id=session.ft_id,
                session_id=session.public_id,
                details={"page": page, "items": len(items)},
            )
        ]
    )
    return {
        "items": items,
        "next_page": page + 1 if len(found) > PAGE_SIZE else None,
        "nothing_on_file": False,
    }


def flag_access(
    deps: CitizenDeps, session: CitizenSession, seq: int, comment: str, client: ClientInfo
) -> None:
    """ "I don't recognise this": an alert for the security team about that access."""
    stored = deps.accesses.entry(seq)
    if stored is None or session.ft_id not in stored.entry.persons or not stored.entry.agent_login:
        raise NotFound()
    now = deps.clock.now()
    if deps.citizens.flagged(session.ft_id, seq):
        return  # already reported: one alert per access is enough
    e = stored.entry
    org = deps.portal.organisation(e.org_id)
    alert_id = deps.alerts.raise_alert(
        Alert(
            at=now,
            rule="citizen_flag",
            severity=Severity.MEDIUM,
            explanation=(
                f"A person does not recognise a {e.tag} by {org.name if org else e.org_id} "
                f"on {format_time(e.at)}."
            ),
            action_taken="none",
            agent_login=e.agent_login,
            org_id=e.org_id,
            session_id=e.session_id,
            evidence={
                "journal_seq": seq,
                "tag": str(e.tag),
                "decision": str(e.decision),
                "purpose": e.purpose,
                "at": format_time(e.at),
                "reported_at": format_time(now),
            },
        )
    )
    deps.citizens.add_flag(CitizenFlag(session.ft_id, seq, now, comment, alert_id))
    deps.journal.append(
        [
            citizen_entry(
                now,
                Tag.CITIZEN_ACCESS_FLAGGED,
                Decision.ALLOW,
                client,
                ft_id=session.ft_id,
                session_id=session.public_id,
                details={"seq": seq, "alert_id": alert_id},
            )
        ]
    )
