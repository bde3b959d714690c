"""Enrolment through a one-time link, on memory twins: single use, failure count, expiry."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from rempart.governance.service import enrolment
from rempart.kernel.actors import Role
from rempart.kernel.errors import InvalidRequest, Unauthenticated, WeakPassword
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import digest
from tests.unit.governance.conftest import CLIENT, ML, Unit, advance, build_deps
from tests.unit.governance.twins import FailingMailer, StepTotp

STRONG = "Sept chevaux gris traversent la riviere en hiver"


def new_account(u: Unit, login: str = "new.adv", *roles: Role) -> str:
    """A created account pending enrolment, and the token of the link mailed to it."""
    u.agent(
        login, ML, *(roles or (Role.ADVISOR,)), enrolment_pending=True, created_at=u.clock.now()
    )
    agent = u.people.agent_by_login(login)
    assert agent is not None
    assert enrolment.send_link(u.gov, None, agent)
    link = next(line for line in u.mails_to(agent.email)[-1].body.splitlines() if "/enrol?" in line)
    return parse_qs(urlsplit(link.strip()).query)["token"][0]


def code(u: Unit, token: str) -> str:
    found = u.gov.tokens.enrolment_token(digest(token))
    assert found is not None
    return StepTotp.code_at(found.pending_totp_secret, u.clock.now())


def test_the_link_enrols_once_and_starts_probation(unit: Unit) -> None:
    """ASVS V6.4.1 (single use, expiring), V6.5.2 (only the token's hash is stored)."""
    token = new_account(unit)
    assert len(token) >= 40
    stored = unit.gov.tokens.enrolment_token(digest(token))
    assert stored is not None
    assert stored.token_hash != token
    assert all(token not in str(e) for e in unit.journal.entries)  # never journaled
    shown = enrolment.begin(unit.gov, token)
    assert shown["login"] == "new.adv"
    assert shown["organisation"] == ML
    assert shown["otpauth_uri"].startswith("otpauth://")
    assert enrolment.begin(unit.gov, token)["totp_secret"] == shown["totp_secret"]  # kept
    done = enrolment.complete(unit.gov, token, STRONG, code(unit, token), CLIENT)
    assert done["status"] == "enrolled"
    assert done["next"] == "sign_in"
    row = unit.row("new.adv")
    assert not row.enrolment_pending
    assert row.totp_secret == shown["totp_secret"]
    assert row.probation_until == unit.clock.now() + unit.rules.probation
    assert row.password_hash
    assert row.password_hash != STRONG
    assert unit.alert_rules() == ["account_factor_enrolled"]
    assert Tag.ACCOUNT_ENROLMENT_COMPLETED in unit.tags()
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, token)  # used
    with pytest.raises(Unauthenticated):
        enrolment.complete(unit.gov, token, STRONG, code(unit, token), CLIENT)


def test_a_privileged_account_goes_on_to_register_a_security_key(unit: Unit) -> None:
    token = new_account(unit, "new.am", Role.ACCOUNT_MANAGER)
    enrolment.begin(unit.gov, token)
    done = enrolment.complete(unit.gov, token, STRONG, code(unit, token), CLIENT)
    assert done["next"] == "register_security_key"


def test_wrong_codes_are_counted_and_burn_the_link(unit: Unit) -> None:
    """ASVS V6.3.1 / V2.4.1: a stolen link is not brute-forced; the fifth failure revokes it."""
    token = new_account(unit)
    enrolment.begin(unit.gov, token)
    for attempt in range(1, 5):
        with pytest.raises(Unauthenticated):
            enrolment.complete(unit.gov, token, STRONG, "000000", CLIENT)
        stored = unit.gov.tokens.enrolment_token(digest(token))
        assert stored is not None
        assert stored.failed_attempts == attempt
        assert stored.revoked_at is None
    assert unit.alert_rules() == []
    with pytest.raises(Unauthenticated):
        enrolment.complete(unit.gov, token, STRONG, "000000", CLIENT)
    stored = unit.gov.tokens.enrolment_token(digest(token))
    assert stored is not None
    assert stored.revoked_at is not None
    assert unit.alert_rules() == ["enrolment_link_abused"]
    failed = unit.entries(Tag.ACCOUNT_ENROLMENT_FAILED)
    assert [e.details["failures"] for e in failed] == [1, 2, 3, 4, 5]
    with pytest.raises(Unauthenticated):  # even the right code is too late now
        enrolment.complete(unit.gov, token, STRONG, code(unit, token), CLIENT)
    assert unit.row("new.adv").enrolment_pending


def test_an_expired_replaced_or_unknown_link_is_refused(unit: Unit) -> None:
    token = new_account(unit)
    advance(unit, unit.rules.enrolment_ttl)
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, token)
    fresh = new_account(unit, "other.adv")
    agent = unit.people.agent_by_login("other.adv")
    assert agent is not None
    enrolment.send_link(unit.gov, None, agent)  # a new link revokes the previous one
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, fresh)
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, "x" * 43)
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, "short")


def test_a_disabled_account_cannot_use_its_link(unit: Unit) -> None:
    token = new_account(unit)
    unit.gov.accounts.set_active(unit.agents["new.adv"], False, "suspended")
    with pytest.raises(Unauthenticated):
        enrolment.begin(unit.gov, token)


def test_the_password_policy_and_the_order_of_steps_hold(unit: Unit) -> None:
    token = new_account(unit)
    with pytest.raises(InvalidRequest):  # open the link first: no secret was shown yet
        enrolment.complete(unit.gov, token, STRONG, "123456", CLIENT)
    enrolment.begin(unit.gov, token)
    with pytest.raises(WeakPassword):
        enrolment.complete(unit.gov, token, "new.adv-password-1", code(unit, token), CLIENT)
    assert unit.row("new.adv").enrolment_pending


def test_a_mail_outage_leaves_the_link_issued_and_journals_the_failure(unit: Unit) -> None:
    unit.agent("new.adv", ML, Role.ADVISOR, enrolment_pending=True)
    agent = unit.people.agent_by_login("new.adv")
    assert agent is not None
    down = FailingMailer()
    assert not enrolment.send_link(build_deps(unit, mailer=down), None, agent)
    assert down.attempts == ["new.adv@example.fr"]
    sent = unit.entries(Tag.ACCOUNT_ENROLMENT_SENT)
    assert [(e.decision, e.reason) for e in sent] == [(Decision.DENY, "mail not delivered")]


def test_the_link_points_at_the_public_address(unit: Unit) -> None:
    assert enrolment.link_for(unit.gov, "abc") == "https://rempart.example/enrol?token=abc"
    assert enrolment.link_for(build_deps(unit), "abc").endswith("/enrol?token=abc")


def test_links_expire_after_the_configured_time(unit: Unit) -> None:
    token = new_account(unit)
    stored = unit.gov.tokens.enrolment_token(digest(token))
    assert stored is not None
    assert stored.expires_at - stored.created_at == unit.rules.enrolment_ttl
    advance(unit, unit.rules.enrolment_ttl - dt.timedelta(seconds=1))
    assert enrolment.begin(unit.gov, token)["login"] == "new.adv"
