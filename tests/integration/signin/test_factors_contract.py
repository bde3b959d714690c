"""Contract of ``WebauthnKeys``, ``RecoveryCodes`` and ``IdentityLinks``: memory twin and SQL
agree (ASVS V6.5.1 single-use recovery codes, V6.8.1 identities matched on issuer and sub)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from rempart.signin.model import NewWebauthnCredential
from tests.factories import NOW
from tests.integration.signin.conftest import Backend

ISS = "https://idp.example"


def key(n: int) -> NewWebauthnCredential:
    return NewWebauthnCredential(bytes([n]) * 16, b"cose-key-%d" % n, 0)


def test_keys_are_listed_oldest_first_per_agent(backend: Backend) -> None:
    """Each agent sees only its own keys, in registration order."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    first = backend.credentials.add_webauthn_credential(a, key(1), "laptop", NOW)
    backend.credentials.add_webauthn_credential(b, key(2), "phone", NOW)
    second = backend.credentials.add_webauthn_credential(
        a, key(3), "spare", NOW + dt.timedelta(minutes=1)
    )
    keys = backend.credentials.webauthn_credentials(a)
    assert keys == [first, second]
    assert first.id != second.id
    assert (first.agent_id, first.credential_id, first.public_key, first.sign_count) == (
        a,
        bytes([1]) * 16,
        b"cose-key-1",
        0,
    )
    assert (first.name, first.created_at, first.last_used_at) == ("laptop", NOW, None)
    assert [k.name for k in backend.credentials.webauthn_credentials(b)] == ["phone"]


def test_a_credential_id_is_registered_once(backend: Backend) -> None:
    """The same authenticator credential cannot be stored twice, even for another account."""
    backend.credentials.add_webauthn_credential(backend.agents["tm.dupont"], key(1), "a", NOW)
    with pytest.raises((ValueError, IntegrityError)):
        backend.credentials.add_webauthn_credential(backend.agents["am.dupont"], key(1), "b", NOW)


def test_sign_count_and_last_use(backend: Backend) -> None:
    """The counter and the time of use are remembered."""
    a = backend.agents["tm.dupont"]
    k = backend.credentials.add_webauthn_credential(a, key(1), "laptop", NOW)
    later = NOW + dt.timedelta(hours=2)
    backend.credentials.update_sign_count(k.id, 42, later)
    (stored,) = backend.credentials.webauthn_credentials(a)
    assert (stored.sign_count, stored.last_used_at) == (42, later)


def test_removing_a_key_needs_its_owner(backend: Backend) -> None:
    """A key is removed by its owner only; removing twice says False."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    k = backend.credentials.add_webauthn_credential(a, key(1), "laptop", NOW)
    assert not backend.credentials.remove_webauthn_credential(b, k.id)
    assert backend.credentials.remove_webauthn_credential(a, k.id)
    assert not backend.credentials.remove_webauthn_credential(a, k.id)
    assert backend.credentials.webauthn_credentials(a) == []


def test_recovery_codes_are_single_use(backend: Backend) -> None:
    """A code is spent once, by its own account only (ASVS V6.5.1)."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    backend.credentials.replace_recovery_codes(a, ["h1", "h2", "h3"], NOW)
    assert backend.credentials.recovery_codes_left(a) == 3
    assert not backend.credentials.use_recovery_code(b, "h1", NOW)
    assert not backend.credentials.use_recovery_code(a, "unknown", NOW)
    assert backend.credentials.use_recovery_code(a, "h1", NOW)
    assert not backend.credentials.use_recovery_code(a, "h1", NOW)
    assert backend.credentials.recovery_codes_left(a) == 2
    assert backend.credentials.recovery_codes_left(b) == 0


def test_new_recovery_codes_replace_the_old(backend: Backend) -> None:
    """After a new set, the old codes (used or not) stop working; others' codes stay."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    backend.credentials.replace_recovery_codes(a, ["h1", "h2"], NOW)
    backend.credentials.replace_recovery_codes(b, ["b1"], NOW)
    backend.credentials.use_recovery_code(a, "h1", NOW)
    backend.credentials.replace_recovery_codes(a, ["n1", "n2", "n3"], NOW)
    assert backend.credentials.recovery_codes_left(a) == 3
    assert not backend.credentials.use_recovery_code(a, "h2", NOW)
    assert backend.credentials.use_recovery_code(a, "n2", NOW)
    assert backend.credentials.recovery_codes_left(b) == 1


def test_identity_links(backend: Backend) -> None:
    """(issuer, sub) names one account; the same sub at another issuer is another identity."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    assert backend.credentials.agent_by_identity(ISS, "sub-1") is None
    backend.credentials.link_identity(a, ISS, "sub-1", NOW)
    backend.credentials.link_identity(a, "https://other.example", "sub-9", NOW)
    backend.credentials.link_identity(b, "https://other.example", "sub-1", NOW)
    assert backend.credentials.agent_by_identity(ISS, "sub-1") == a
    assert backend.credentials.agent_by_identity("https://other.example", "sub-1") == b
    assert backend.credentials.agent_by_identity(ISS, "sub-9") is None
    assert backend.credentials.identities_of(a) == [
        (ISS, "sub-1"),
        ("https://other.example", "sub-9"),
    ]


def test_an_identity_links_one_account(backend: Backend) -> None:
    """Linking an identity already linked is refused, whatever the account."""
    backend.credentials.link_identity(backend.agents["tm.dupont"], ISS, "sub-1", NOW)
    with pytest.raises((ValueError, IntegrityError)):
        backend.credentials.link_identity(backend.agents["am.dupont"], ISS, "sub-1", NOW)


def test_unlinking_needs_the_owner(backend: Backend) -> None:
    """Only the linked account's link is removed; removing twice says False."""
    a, b = backend.agents["tm.dupont"], backend.agents["am.dupont"]
    backend.credentials.link_identity(a, ISS, "sub-1", NOW)
    assert not backend.credentials.unlink_identity(b, ISS, "sub-1")
    assert backend.credentials.unlink_identity(a, ISS, "sub-1")
    assert not backend.credentials.unlink_identity(a, ISS, "sub-1")
    assert backend.credentials.agent_by_identity(ISS, "sub-1") is None
    assert backend.credentials.identities_of(a) == []
