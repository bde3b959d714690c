"""Ports: what the use cases need from the outside world, named for their role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Protocol

from rempart.domain.alerts import Alert
from rempart.domain.auth import (
    AccountLock,
    Challenge,
    Credentials,
    Failures,
    FederatedClaims,
    FederationRequest,
    NewWebauthnCredential,
    Session,
    WebauthnCredential,
)
from rempart.domain.citizen import CitizenChallenge, CitizenFlag, CitizenSession
from rempart.domain.governance import (
    AccountRequest,
    AccountStanding,
    EnrolmentToken,
    OrgSuspension,
    RequestStatus,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
)
from rempart.domain.guard.profiles import AgentProfile, OrgProfile, PeerProfile
from rempart.domain.journal import JournalEntry, StoredEntry
from rempart.domain.journal_integrity import Checkpoint, CheckpointKind
from rempart.domain.model import (
    Agent,
    App,
    AttendanceMark,
    Enrolment,
    FollowUpNote,
    Organisation,
    Person,
    Relations,
    Role,
    Training,
    TrainingSession,
)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current time, timezone-aware UTC."""
        ...


class JournalWriter(Protocol):
    def append(self, entries: Sequence[JournalEntry]) -> int:
        """Durably record the entries; return the last sequence number. Blocks until committed."""
        ...


class JournalQueries(Protocol):
    """Reading the journal back; entries come from their hashed canonical form, not a copy."""

    def entry(self, seq: int) -> StoredEntry | None:
        """One entry by sequence number."""
        ...

    def who_consulted(
        self, ft_id: str, offset: int, limit: int, *, by_agents_only: bool = False
    ) -> list[StoredEntry]:
        """Entries concerning a person, newest first."""
        ...

    def activity(
        self,
        since: dt.datetime,
        until: dt.datetime,
        *,
        agent_login: str = "",
        session_id: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> list[StoredEntry]:
        """What an agent (or one session) did in ``[since, until)``, oldest first."""
        ...

    def volumes(self, since: dt.datetime, until: dt.datetime) -> list[tuple[dt.date, str, int]]:
        """Entries per (UTC day, organisation) in ``[since, until)``."""
        ...


class CheckpointSigner(Protocol):
    """Signs journal checkpoints; the private key never enters the domain."""

    key_id: str
    public_key: bytes

    def sign(self, message: bytes) -> bytes: ...


class JournalArchive(Protocol):
    """Raw access to the stored journal for verification, proofs and retention."""

    def head(self) -> tuple[int, bytes]:
        """Last sequence number and its chain value (after a purge with no entry left: the
        purge checkpoint's)."""
        ...

    def purge_base(self) -> Checkpoint | None:
        """The retention boundary the remaining entries start after, if any."""
        ...

    def rows(self, after: int) -> Iterator[tuple[int, bytes, bytes]]:
        """``(seq, canonical entry, chain)`` for every entry after ``after``, in order."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by tree size."""
        ...

    def nodes(self) -> dict[tuple[int, int], bytes]:
        """The stored perfect Merkle subtrees, by (level, index)."""
        ...

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the perfect aligned range ``[start, end)`` of leaf indexes."""
        ...

    def body(self, seq: int) -> bytes | None:
        """The canonical form of one entry."""
        ...

    def index_mismatch(self, after: int) -> int | None:
        """The first entry whose query columns or person rows disagree with its canonical
        form (they are copies kept for the indexes; the hash covers only the canonical form)."""
        ...

    def public_keys(self) -> dict[str, bytes]:
        """Public keys recorded in the journal itself, by key id."""
        ...

    def checkpoint(self, kind: CheckpointKind) -> Checkpoint:
        """Sign and store a checkpoint of the journal as it is now."""
        ...

    def last_seq_before(self, at: dt.datetime) -> int:
        """The highest sequence number such that it and every entry before it are older
        than ``at``."""
        ...

    def purge(self, cut: int) -> Checkpoint:
        """Delete entries up to ``cut`` behind a signed purge checkpoint at ``cut``."""
        ...


class CitizenStore(Protocol):
    """One-time codes, sessions and flags of people looking at their own accesses."""

    def add_challenge(self, challenge: CitizenChallenge) -> None: ...
    def challenge(self, challenge_id: str) -> CitizenChallenge | None: ...

    def challenges_since(
        self, since: dt.datetime, *, ft_id: str = "", client_address: str = ""
    ) -> Failures:
        """How many codes were asked for (per person or per address) since then, and when
        the last one was: what throttling counts."""
        ...

    def record_attempt(self, challenge_id: str) -> int:
        """Count one more try at a challenge's code, atomically; return the new count."""
        ...

    def consume(self, challenge_id: str, at: dt.datetime) -> bool:
        """Mark a challenge used; False when it already was (a code works once)."""
        ...

    def add_session(self, session: CitizenSession) -> None: ...
    def session(self, token_hash: str) -> CitizenSession | None: ...
    def end_session(self, token_hash: str) -> None: ...
    def flagged(self, ft_id: str, seq: int) -> bool: ...
    def add_flag(self, flag: CitizenFlag) -> bool:
        """Keep a flag; False when the person already flagged that entry."""
        ...


class AlertSink(Protocol):
    """Where alerts go: stored for the console and the API, and fanned out (webhook, syslog)."""

    def raise_alert(self, alert: Alert) -> int:
        """Record an alert; return its id."""
        ...

    def alerts_since(self, since: dt.datetime | None, limit: int) -> list[Alert]:
        """Alerts newest first, optionally only those at or after ``since``."""
        ...

    def counts_by_rule(self) -> dict[str, int]:
        """How many alerts each rule raised, all time."""
        ...


class ProfileStore(Protocol):
    """Baselines of past behaviour that the guard derives budgets and usual hours from."""

    def agent(self, login: str) -> AgentProfile | None: ...
    def peers(self, group: str) -> PeerProfile | None: ...
    def org(self, org_id: str) -> OrgProfile | None: ...
    def app_daily(self, app: str) -> tuple[int, ...]: ...


class Containment(Protocol):
    """What the guard and the security team do to stop an abused account, immediately."""

    def revoke_session(self, session_id: str, reason: str) -> None:
        """End one session now."""
        ...

    def lock_account(self, login: str, reason: str) -> None:
        """Lock an account (and end its sessions)."""
        ...

    def suspend_org_app(self, org_id: str, app: str, reason: str) -> None:
        """Suspend one organisation's access to one app."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Send one plain-text e-mail (raises on failure; callers decide whether to retry)."""
        ...


class PortalStore(Protocol):
    """The portal's own data: people, organisations, agents, relations, trainings."""

    def agent_by_id(self, agent_id: int) -> Agent | None: ...
    def agent_by_login(self, login: str) -> Agent | None: ...
    def organisation(self, org_id: str) -> Organisation | None: ...
    def person_by_ft_id(self, ft_id: str) -> Person | None: ...
    def relations(self, person_id: int, agent: Agent) -> Relations: ...
    def portfolio(
        self, agent: Agent, today: dt.date, grace_from: dt.date, offset: int, limit: int
    ) -> list[tuple[str, str, str]]: ...
    def trainings_of(self, org_id: str) -> list[Training]: ...
    def training(self, training_id: int) -> Training | None: ...
    def sessions_of(self, training_id: int) -> list[TrainingSession]: ...
    def session(self, session_id: int) -> TrainingSession | None: ...
    def enrolments_of_training(self, training_id: int) -> list[tuple[Enrolment, Person]]: ...
    def enrolments_of_person(
        self, person_id: int, org_id: str
    ) -> list[tuple[Enrolment, Training]]: ...
    def enrol(
        self, training: Training, person: Person, start: dt.date, end: dt.date
    ) -> Enrolment: ...
    def attendance_of(self, session_id: int) -> dict[int, AttendanceMark]: ...
    def record_attendance(
        self, session_id: int, marks: dict[int, AttendanceMark], by_login: str, at: dt.datetime
    ) -> None: ...
    def notes_of(self, person_id: int, org_id: str) -> list[FollowUpNote]: ...
    def add_note(
        self, person_id: int, org_id: str, author: str, at: dt.datetime, text: str
    ) -> FollowUpNote: ...
    def app_enabled(self, app: App, org_id: str) -> bool: ...
    def set_app_enabled(self, app: App, org_id: str | None, enabled: bool) -> None: ...


# --- Sign-in -------------------------------------------------------------------------------


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id)."""

    def hash(self, password: str) -> str:
        """A new salted hash of ``password``."""
        ...

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; None still costs one full verification."""
        ...

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with weaker parameters than today's."""
        ...


class TotpVerifier(Protocol):
    """RFC 6238 time-based codes."""

    def new_secret(self) -> str:
        """A fresh base32 secret from a CSPRNG."""
        ...

    def matching_step(self, secret: str, code: str, at: dt.datetime) -> int | None:
        """The time step (±1 around ``at``) whose code is ``code``, or None."""
        ...

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app scans."""
        ...


class WebauthnCeremonies(Protocol):
    """WebAuthn registration and authentication, user verification required."""

    def registration_options(
        self, user_handle: bytes, login: str, display_name: str, exclude: Sequence[bytes]
    ) -> tuple[str, bytes]:
        """Creation options as JSON, and the challenge they carry."""
        ...

    def verify_registration(self, credential_json: str, challenge: bytes) -> NewWebauthnCredential:
        """Check an attestation; raise Unauthenticated or InvalidRequest when it does not hold."""
        ...

    def authentication_options(self, allow: Sequence[bytes]) -> tuple[str, bytes]:
        """Request options as JSON, and the challenge they carry."""
        ...

    def credential_id(self, credential_json: str) -> bytes:
        """The raw id of the credential an assertion names (InvalidRequest if unreadable)."""
        ...

    def verify_authentication(
        self, credential_json: str, challenge: bytes, public_key: bytes, sign_count: int
    ) -> int:
        """Check an assertion; return the new sign count (a counter going back fails)."""
        ...


class IdentityFederation(Protocol):
    """An OpenID Connect provider (ProConnect-shaped): code flow with PKCE."""

    def authorization_request(self, redirect_uri: str) -> FederationRequest:
        """A new authorization request with fresh state, nonce and PKCE verifier."""
        ...

    def complete(
        self, request: FederationRequest, redirect_uri: str, code: str, issuer: str | None
    ) -> FederatedClaims:
        """Exchange the code and verify the ID token (signature, iss, aud, nonce, times)."""
        ...


class NetworkLocator(Protocol):
    """Where an address sits: its autonomous system and country, offline."""

    def locate(self, address: str) -> tuple[str, str]:
        """(network label, ISO country code or "") for an address."""
        ...


class AttemptCounter(Protocol):
    """Failed attempts per key, shared by every replica in production (Redis)."""

    def failures(self, key: str, now: dt.datetime) -> Failures:
        """The failures counted under ``key`` (forgotten after a quiet period)."""
        ...

    def record_failure(self, key: str, now: dt.datetime, forget_after: dt.timedelta) -> Failures:
        """Count one more failure under ``key``; return the new tally."""
        ...

    def clear(self, key: str) -> None:
        """Forget ``key`` (after a success, or an unlock)."""
        ...


class CredentialStore(Protocol):
    """Agents' credentials and second factors."""

    def credentials(self, login: str) -> Credentials | None: ...
    def credentials_by_id(self, agent_id: int) -> Credentials | None: ...
    def set_password_hash(self, agent_id: int, password_hash: str) -> None: ...
    def set_totp(self, agent_id: int, secret: str, last_step: int) -> None: ...
    def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Record ``step`` as used if it is newer than the last one; False on a replay."""
        ...

    def record_failed_login(self, agent_id: int) -> int:
        """One more consecutive failure; return the new count."""
        ...

    def record_success(self, agent_id: int, at: dt.datetime) -> None: ...
    def lock(self, lock: AccountLock) -> None: ...
    def add_lock_address(self, agent_id: int, address: str) -> None: ...
    def lock_of(self, agent_id: int) -> AccountLock | None: ...
    def unlock(self, agent_id: int) -> None: ...
    def webauthn_credentials(self, agent_id: int) -> list[WebauthnCredential]: ...
    def add_webauthn_credential(
        self, agent_id: int, cred: NewWebauthnCredential, name: str, at: dt.datetime
    ) -> WebauthnCredential: ...
    def update_sign_count(self, cred_id: int, sign_count: int, at: dt.datetime) -> None: ...
    def remove_webauthn_credential(self, agent_id: int, cred_id: int) -> bool: ...
    def recovery_codes_left(self, agent_id: int) -> int: ...
    def replace_recovery_codes(
        self, agent_id: int, code_hashes: Sequence[str], at: dt.datetime
    ) -> None: ...
    def use_recovery_code(self, agent_id: int, code_hash: str, at: dt.datetime) -> bool:
        """Mark the code used; False when unknown or already used."""
        ...

    def agent_by_identity(self, issuer: str, subject: str) -> int | None: ...
    def link_identity(self, agent_id: int, issuer: str, subject: str, at: dt.datetime) -> None: ...
    def unlink_identity(self, agent_id: int, issuer: str, subject: str) -> bool: ...
    def identities_of(self, agent_id: int) -> list[tuple[str, str]]: ...


class ChallengeStore(Protocol):
    """Pending steps of sign-in ceremonies, each used at most once."""

    def put(self, challenge: Challenge) -> None: ...
    def get(self, key: str) -> Challenge | None: ...
    def update(self, key: str, *, attempts: int, payload: dict[str, str]) -> None: ...
    def take(self, key: str) -> bool:
        """Delete the challenge; True only for the one caller that deleted it."""
        ...

    def purge(self, before: dt.datetime) -> None: ...


class SessionStore(Protocol):
    """Server-side sessions, keyed by the hash of the cookie token."""

    def create(self, session: Session) -> None: ...
    def get(self, key: str) -> Session | None: ...
    def touch(self, key: str, at: dt.datetime) -> None: ...
    def set_fresh_until(self, key: str, until: dt.datetime) -> None: ...
    def end_public(self, public_id: str, at: dt.datetime, reason: str) -> bool:
        """End one live session named by its public id."""
        ...

    def end(self, key: str, at: dt.datetime, reason: str) -> bool:
        """End one live session; False when it had already ended."""
        ...

    def end_all(
        self,
        at: dt.datetime,
        reason: str,
        *,
        agent_id: int | None = None,
        org_id: str | None = None,
        except_key: str | None = None,
    ) -> list[Session]:
        """End every live session of an agent or an organisation; return the sessions ended."""
        ...

    def live_of(self, agent_id: int, now: dt.datetime) -> list[Session]: ...


# --- Privileged-account governance ---------------------------------------------------------


class GovernanceStore(Protocol):
    """Account provenance and state, four-eyes requests, enrolment links, reviews, suspensions."""

    # Accounts
    def standing(self, agent_id: int) -> AccountStanding:
        """Governance facts about one account (an unknown id gets a blank standing)."""
        ...

    def agents_of_org(self, org_id: str) -> list[Agent]: ...
    def create_agent(
        self,
        login: str,
        email: str,
        org_id: str,
        roles: frozenset[Role],
        *,
        created_by: int,
        approved_by: int,
        at: dt.datetime,
        training_valid_until: dt.date | None,
    ) -> int:
        """Store a new account that must enrol before anything else; return its id."""
        ...

    def set_roles(self, agent_id: int, roles: frozenset[Role]) -> None: ...
    def set_active(self, agent_id: int, active: bool, reason: str) -> bool:
        """Switch an account on or off; False when it already was."""
        ...

    def set_training_valid_until(self, agent_id: int, day: dt.date) -> None: ...
    def set_end_date(self, agent_id: int, day: dt.date | None) -> None: ...
    def erase_factors(self, agent_id: int) -> None:
        """Forget password, TOTP secret, security keys and recovery codes; enrol again."""
        ...

    def login_taken(self, login: str) -> bool:
        """True when an account or a pending request already uses ``login``."""
        ...

    def idle_agents(self, cutoff: dt.datetime) -> list[tuple[Agent, AccountStanding]]:
        """Accounts whose last use (or creation, if never used) is before ``cutoff``."""
        ...

    def leavers(self, today: dt.date) -> list[Agent]:
        """Active accounts whose end date is today or past."""
        ...

    def privileged_accounts(self) -> list[tuple[Agent, AccountStanding]]: ...

    # Four-eyes requests
    def add_request(self, request: AccountRequest) -> None: ...
    def request(self, request_id: str) -> AccountRequest | None: ...
    def requests(
        self,
        *,
        org_id: str | None = None,
        status: RequestStatus | None = None,
        requested_by: int | None = None,
        target_agent_id: int | None = None,
        limit: int = 200,
    ) -> list[AccountRequest]:
        """Requests, newest first."""
        ...

    def request_times(self, requested_by: int, since: dt.datetime) -> list[dt.datetime]:
        """When this agent made requests since ``since`` (for bursts and the weekly cap)."""
        ...

    def decide_request(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        by_id: int | None,
        by_login: str,
        at: dt.datetime,
        reason: str = "",
        created_agent_id: int | None = None,
    ) -> bool:
        """Move a pending request to ``status``; False when it was no longer pending."""
        ...

    def expired_requests(self, now: dt.datetime) -> list[AccountRequest]: ...

    # Enrolment links
    def add_enrolment_token(
        self, agent_id: int, token_hash: str, at: dt.datetime, expires_at: dt.datetime
    ) -> int:
        """Store a new link for the agent, revoking the agent's earlier ones; return its id."""
        ...

    def enrolment_token(self, token_hash: str) -> EnrolmentToken | None: ...
    def set_pending_totp(self, token_id: int, secret: str) -> None: ...
    def count_enrolment_failure(self, token_id: int) -> int:
        """One more failed attempt on the link; return the new count."""
        ...

    def revoke_enrolment_tokens(self, agent_id: int, at: dt.datetime) -> int: ...
    def complete_enrolment(
        self,
        token_id: int,
        agent_id: int,
        *,
        at: dt.datetime,
        password_hash: str,
        totp_secret: str,
        totp_step: int,
        probation_until: dt.datetime | None,
    ) -> bool:
        """Use the link once and set the credentials; False when it was already used."""
        ...

    # Organisation kill switch
    def org_suspension(self, org_id: str) -> OrgSuspension | None: ...
    def suspend_org(self, org_id: str, by: str, at: dt.datetime, reason: str) -> bool: ...
    def lift_org(self, org_id: str, by: str, at: dt.datetime) -> bool: ...
    def org_ids_using(self, app: App) -> list[str]:
        """The organisations whose agents work in ``app``."""
        ...

    # Access reviews
    def open_campaign(
        self,
        org_id: str,
        opened_by: str,
        at: dt.datetime,
        deadline: dt.datetime,
        default_decision: ReviewDecision,
        items: Sequence[tuple[int, str, str]],
    ) -> int:
        """Open a campaign over (agent id, login, role) items; return its id."""
        ...

    def campaign(self, campaign_id: int) -> ReviewCampaign | None: ...
    def campaigns(self, org_id: str | None = None) -> list[ReviewCampaign]: ...
    def open_campaigns(self) -> list[ReviewCampaign]: ...
    def orgs_due_for_review(self, opened_before: dt.datetime) -> list[str]:
        """Organisations with accounts and no campaign opened since ``opened_before``."""
        ...

    def review_items(self, campaign_id: int) -> list[ReviewItem]: ...
    def decide_item(
        self,
        item_id: int,
        decision: ReviewDecision,
        by: str,
        at: dt.datetime,
        *,
        by_default: bool = False,
    ) -> bool:
        """Record a decision on an undecided item; False when already decided."""
        ...

    def close_campaign(self, campaign_id: int, at: dt.datetime) -> bool: ...
    def mark_reminded(self, campaign_id: int, at: dt.datetime) -> None: ...
