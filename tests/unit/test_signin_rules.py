"""Sign-in rules without I/O: password policy, throttling, factor choice, acr, session expiry.

ASVS 5.0 named per test.
"""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from rempart.kernel.actors import OrgKind, Role
from rempart.kernel.errors import WeakPassword
from rempart.kernel.throttling import Failures, ThrottlePolicy
from rempart.signin.adapters.geoip import GeoipLocator
from rempart.signin.adapters.memory_attempts import MemoryAttemptCounter
from rempart.signin.adapters.totp import PyotpTotp
from rempart.signin.model import (
    ACCOUNT_THROTTLE,
    ADDRESS_THROTTLE,
    AuthPolicy,
    EndReason,
    Method,
    Session,
    acr_satisfies,
    allowed_methods,
    digest,
    needs_key_enrolment,
)
from rempart.signin.passwords import check_password, common_passwords, estimated_bits, is_common
from rempart.web.client import client_address, parse_proxies
from tests.factories import NOW, make_agent

POLICY = AuthPolicy()


@pytest.mark.parametrize(
    "password",
    [
        "Tr0ub4dor&3xyz",  # 12+ characters of 4 kinds (CNIL's first example)
        "Kd83hf02Lxq9Wm",  # 14 letters and digits
        "vqzjtrmkplwhxdfbns",  # 18 lower-case letters: ≥ 80 bits, no composition rule
        "le chat dort sur le vieux tapis",  # 7 words
        "Ünïcödé-Clé-ßtrong-Été",  # any character is allowed, verbatim
        "Le-vent-se-leve-il-faut-tenter-de-vivre-Paul-Valery-1920-Sete!!",  # 64 characters
    ],
)
def test_policy_accepts_cnil_strong_passwords(password: str) -> None:
    """ASVS V6.2.1, V6.2.5 (any composition), V6.2.9 (≥ 64 characters allowed); CNIL 2022-100."""
    check_password(password)  # raises WeakPassword when refused


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Sh0rt!pwd", "at least 12"),
        ("abcdefghijkl", "common"),  # in the list
        ("Password1234!", "common"),  # common core with usual suffixes
        ("Azerty123456!", "common"),
        ("motdepasse2024", "common"),
        ("soleil1234567", "common"),
        ("aaaaaaaaaaaaaaaaaaaaaa", "repeats"),
        ("qwrtzplkmnbvcx", "too weak"),  # 14 lower-case letters: ~66 bits
        ("Rempart-Portail-2026!", "may not contain"),
        ("FranceTravail#2026xx", "may not contain"),
        ("z" * 257, "at most 256"),
    ],
)
def test_policy_refuses_weak_common_and_contextual_passwords(password: str, why: str) -> None:
    """ASVS V6.2.4, V6.2.12 (breached list), V6.1.2/V6.2.11 (context words)."""
    with pytest.raises(WeakPassword) as err:
        check_password(password)
    assert why in err.value.detail
    assert password not in err.value.detail


def test_policy_refuses_the_agents_own_login_and_organisation() -> None:
    """ASVS V6.2.11: the login and the organisation's name are context words."""
    with pytest.raises(WeakPassword):
        check_password("Jean.Dupont#Secure9", ["jean.dupont"])
    with pytest.raises(WeakPassword):
        check_password("FormationsDupont!99", ["agent7", "Formations Dupont"])
    check_password("Horloge#Violette42", ["jean.dupont", "Formations Dupont"])


def test_common_password_list_is_shipped_and_large_enough() -> None:
    """ASVS V6.2.4: at least the top 3000 passwords, shipped with the package (no network)."""
    common = common_passwords()
    assert len(common) >= 3000
    for top in ("123456", "password", "azerty", "qwerty", "iloveyou", "soleil"):
        assert top in common
    assert is_common("AZERTY")
    assert not is_common("Horloge#Violette42")
    assert estimated_bits("aB3!" * 3) > 78


def test_throttle_delays_grow_and_are_forgotten() -> None:
    """ASVS V6.3.1: free attempts, then 1 s, 2 s, 4 s ... capped; a quiet hour forgets."""
    p = ThrottlePolicy(free=3, base_seconds=1, max_seconds=60)
    assert [p.delay(n) for n in range(1, 10)] == [0, 0, 1, 2, 4, 8, 16, 32, 60]
    assert p.retry_after(Failures(5, NOW), NOW) == 4
    assert p.retry_after(Failures(5, NOW), NOW + dt.timedelta(seconds=3.5)) == 1
    assert p.retry_after(Failures(5, NOW), NOW + dt.timedelta(seconds=4)) == 0
    assert p.retry_after(Failures(99, NOW), NOW + dt.timedelta(hours=1)) == 0
    assert ADDRESS_THROTTLE.free > ACCOUNT_THROTTLE.free  # offices share an address


def test_memory_attempt_counter_counts_and_forgets() -> None:
    counter = MemoryAttemptCounter()
    hour = dt.timedelta(hours=1)
    assert counter.failures("k", NOW) == Failures()
    counter.record_failure("k", NOW, hour)
    assert counter.record_failure("k", NOW + dt.timedelta(minutes=1), hour).count == 2
    assert counter.failures("k", NOW + dt.timedelta(minutes=30)).count == 2
    assert counter.failures("k", NOW + dt.timedelta(minutes=61)) == Failures()
    counter.record_failure("k", NOW, hour)
    counter.clear("k")
    assert counter.failures("k", NOW).count == 0


def test_totp_matches_one_step_either_way_only() -> None:
    """ASVS V6.5.5 (30 s codes); the caller refuses steps ≤ the last used (V6.5.1)."""
    totp = PyotpTotp()
    secret = totp.new_secret()
    assert len(secret) == 32
    gen = pyotp.TOTP(secret)
    step = gen.timecode(NOW)
    for shift in (-1, 0, 1):
        code = gen.at(NOW + dt.timedelta(seconds=30 * shift))
        assert totp.matching_step(secret, code, NOW) == step + shift
    assert totp.matching_step(secret, gen.at(NOW + dt.timedelta(seconds=90)), NOW) is None
    for bad in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert totp.matching_step(secret, bad, NOW) is None
    assert totp.matching_step("not base32!", "123456", NOW) is None


def test_privileged_roles_get_the_phishing_resistant_factor_only() -> None:
    """ASVS V6.3.3: MFA for all; WebAuthn only for account managers, admins, security officers."""
    advisor = make_agent(OrgKind.MISSION_LOCALE, {Role.ADVISOR})
    manager = make_agent(OrgKind.MISSION_LOCALE, {Role.ACCOUNT_MANAGER})
    kw = {"has_totp": True, "has_webauthn": True, "recovery_codes_left": 3}
    assert allowed_methods(advisor, policy=POLICY, **kw) == [
        Method.TOTP,
        Method.WEBAUTHN,
        Method.RECOVERY,
    ]
    assert allowed_methods(manager, policy=POLICY, **kw) == [Method.WEBAUTHN]
    relaxed = AuthPolicy(webauthn_only_for_privileged=False)
    assert Method.TOTP in allowed_methods(manager, policy=relaxed, **kw)
    none = {"has_totp": False, "has_webauthn": False, "recovery_codes_left": 5}
    assert allowed_methods(advisor, policy=POLICY, **none) == []  # codes alone never suffice
    assert needs_key_enrolment(manager, has_totp=True, has_webauthn=False, policy=POLICY)
    assert not needs_key_enrolment(advisor, has_totp=True, has_webauthn=False, policy=POLICY)


def test_acr_is_checked_against_the_required_levels() -> None:
    """ASVS V6.8.4: eidas1 never suffices; privileged accounts need eidas3 when required."""
    advisor = make_agent(OrgKind.AGENCY, {Role.ADVISOR})
    admin = make_agent(OrgKind.AGENCY, {Role.ADMIN})
    assert acr_satisfies("eidas2", advisor, POLICY)
    assert not acr_satisfies("eidas1", advisor, POLICY)
    assert not acr_satisfies("", advisor, POLICY)
    assert not acr_satisfies("eidas2", admin, POLICY)
    assert acr_satisfies("eidas3", admin, POLICY)


def _session(**kw: object) -> Session:
    values: dict[str, object] = {
        "key": digest("t"),
        "public_id": "p",
        "agent_id": 1,
        "org_id": "o",
        "method": "password+totp",
        "created_at": NOW,
        "last_seen_at": NOW,
        "expires_at": NOW + POLICY.absolute,
        "fresh_until": None,
        "address": "192.0.2.1",
        "network": "n",
        "country": "",
        "user_agent": "ua",
    }
    values.update(kw)
    return Session(**values)  # type: ignore[arg-type]


def test_session_expiry_idle_then_absolute() -> None:
    """ASVS V7.3.1 (idle 15 min), V7.3.2 (absolute 10 h)."""
    s = _session()
    assert s.expiry_reason(NOW + dt.timedelta(minutes=14, seconds=59), POLICY) is None
    assert s.expiry_reason(NOW + dt.timedelta(minutes=15), POLICY) is EndReason.IDLE
    busy = _session(last_seen_at=NOW + dt.timedelta(hours=9, minutes=59))
    assert busy.expiry_reason(NOW + dt.timedelta(hours=10), POLICY) is EndReason.ABSOLUTE
    assert busy.idle_expires_at(POLICY) == NOW + POLICY.absolute
    assert EndReason.NETWORK_CHANGED.is_revocation
    assert not EndReason.LOGOUT.is_revocation


def test_private_addresses_get_a_stable_lan_network() -> None:
    """Loopback and private addresses map to their /24 (/48): tests and the demo keep sessions."""
    locator = GeoipLocator(use_database=False)
    assert locator.locate("127.0.0.1") == ("LAN:127.0.0.0/24", "")
    assert locator.locate("192.168.1.77") == ("LAN:192.168.1.0/24", "")
    assert locator.locate("::1")[0].startswith("LAN:")
    assert locator.locate("::ffff:10.0.0.9") == ("LAN:10.0.0.0/24", "")
    assert locator.locate("90.84.1.1") == ("NET:90.84.1.0/24", "")
    assert locator.locate("2a01:e0a::1") == ("NET:2a01:e0a::/48", "")
    assert locator.locate("testclient")[0] == "UNKNOWN:testclient"


def test_forwarded_for_is_believed_from_trusted_proxies_only() -> None:
    """The right-most untrusted X-Forwarded-For hop, only when the peer is a trusted proxy."""
    trusted = parse_proxies(["10.0.0.0/8"])
    assert client_address("10.0.0.2", "1.2.3.4, 90.84.1.1", trusted) == "90.84.1.1"
    assert client_address("10.0.0.2", "90.84.1.1, 10.0.0.7", trusted) == "90.84.1.1"
    assert client_address("203.0.113.5", "90.84.1.1", trusted) == "203.0.113.5"
    assert client_address("10.0.0.2", "garbage", trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"
