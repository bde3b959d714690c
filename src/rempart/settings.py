"""All of Rempart's settings: one class, environment prefix ``REMPART_``."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "demo-only-not-a-secret"  # noqa: S105 - refused outside demo mode, see below


class Settings(BaseSettings):
    """Built once per app (``create_app(settings)``); tests build their own."""

    model_config = SettingsConfigDict(env_prefix="REMPART_", extra="forbid")

    demo: bool = False
    db_url: str = "sqlite:///rempart.db"
    journal_url: str = ""  # empty: journal.db beside the portal's SQLite file
    # Journal: base64 of a raw Ed25519 private key signing its checkpoints. Demo mode generates
    # one and keeps it in the journal database itself (forgeable: demo only); outside demo
    # mode a missing key refuses to start.
    journal_signing_key: SecretStr | None = None
    journal_checkpoint_every: int = Field(10_000, ge=1)  # entries between signed checkpoints
    journal_checkpoint_seconds: float = Field(60.0, gt=0)  # ... and at least this often
    journal_retention_months: int = Field(12, ge=1, le=120)  # CNIL: 6 to 12 months
    journal_group_wait_ms: float = Field(2.0, ge=0, le=50)  # group commit: longest extra wait
    journal_group_max: int = Field(4096, ge=1)  # group commit: most entries per transaction
    # Who commits the serving loop's appends on a SQLite journal file: the writer thread, or a
    # writer process of its own, which shares no interpreter lock with the loop (docs/journal.md).
    journal_writer: Literal["thread", "process"] = "process"
    # Longest wait for the journal's durable commit; past it the request fails closed (503).
    journal_wait_seconds: float = Field(10.0, gt=0, le=300)
    # Published checkpoints (C2SP): the log's origin line (empty: derived from public_url; a
    # journal keeps the first one it signed with), and the witnesses whose cosignatures it
    # accepts, as verifier keys NAME+HASH+KEY separated by spaces or commas.
    journal_origin: str = ""
    journal_witnesses: str = ""
    # "Who consulted my file": one-time codes mailed to the person, then a short session.
    citizen_code_minutes: int = Field(10, ge=1, le=30)
    citizen_code_attempts: int = Field(5, ge=1, le=10)
    citizen_session_minutes: int = Field(15, ge=1, le=120)
    insecure_http: bool = False
    trusted_proxies: list[str] = Field(default_factory=list)
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    enrolment_grace_months: int = Field(6, ge=0, le=60)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_page_size: int = 100
    session_idle_minutes: int = Field(15, ge=1)
    session_absolute_hours: int = Field(10, ge=1)
    redis_url: str = ""  # shared guard state for several replicas; empty: in process
    redis_prefix: str = "rempart:"
    smtp_host: str = ""  # empty: mails are kept in memory (and printed in demo mode)
    smtp_port: int = 25
    mail_from: str = "rempart@localhost"
    # DKIM (RFC 6376): outgoing mail signed with this key; the domain publishes its public half
    # at SELECTOR._domainkey.DOMAIN (docs/mail-authentication.md). Empty file: not signed.
    dkim_key_file: str = ""
    dkim_selector: str = "rempart"
    dkim_domain: str = ""  # empty: the domain of mail_from
    # Official messages to people: printable letters are written here (empty: kept in memory).
    letters_dir: str = ""
    # The address people are told to type themselves (messages to people carry no link).
    official_address: str = ""  # empty: public_url's host
    # Who the people and the regulator write to about an incident (art. 33(3)(b), 34(2)).
    dpo_contact: str = "Délégué à la protection des données, France Travail, dpo@francetravail.fr"
    # Who a person calls or writes to when a message is not from us (shown on the pages).
    official_contact: str = "le 3949 (service gratuit + prix d'un appel)"
    policy_file: str = ""  # TOML overriding the guard's thresholds (validated at start)
    guard_mode: Literal["on", "off"] = "on"  # off: scope policy only (the bench's comparison)
    guard_baseline_days: int = Field(30, ge=1, le=365)
    guard_rebuild_minutes: int = Field(60, ge=1)
    guard_baselines_at_start: bool = True  # the bench injects baselines it built once
    alert_webhook_url: str = ""  # alerts pushed as JSON (the SOC's tooling)
    alert_syslog: str = ""  # host:port receiving RFC 5424 lines (the SIEM)
    alert_syslog_tcp: bool = False
    metrics_token: SecretStr | None = None  # bearer token for /metrics; without it, loopback only
    # Privileged-account governance (four eyes, enrolment, reviews, lifecycle).
    public_url: str = "http://localhost:8000"  # base of the links mailed to people
    approver_min_age_days: int = Field(30, ge=0, le=3650)
    account_request_ttl_hours: int = Field(24, ge=1, le=24 * 14)
    account_request_burst: int = Field(3, ge=1)
    account_request_burst_minutes: int = Field(10, ge=1)
    account_request_weekly_cap: int = Field(10, ge=1)
    enrolment_link_hours: int = Field(24, ge=1, le=24 * 7)
    probation_days: int = Field(14, ge=0, le=365)
    training_grace_days: int = Field(30, ge=0, le=365)
    inactivity_disable_days: int = Field(90, ge=1)
    inactivity_erase_days: int = Field(180, ge=1)
    review_period_days: int = Field(91, ge=1)  # quarterly
    review_duration_days: int = Field(14, ge=1)
    review_remind_every_days: int = Field(3, ge=1)
    jobs_interval_seconds: int = Field(3600, ge=0)  # 0: no scheduler inside `serve`
    # Who runs commands (import, canaries, retention): a national administrator's login, journaled
    # as the actor; that administrator cannot approve their own import's privileged rows.
    operator: str = ""
    # Years the portal keeps a person after their registration ended (retention/model.py says
    # where the figure comes from: code du travail R. 5312-44 is the 20-year ceiling).
    retention_years: int = Field(2, ge=1, le=20)
    # Domain of the canary records' e-mail addresses: one the security team watches (a mail to
    # a canary means the data left), ``.invalid`` (RFC 2606) by default.
    canary_mail_domain: str = "canari.invalid"
    # A hand-over of this many follow-ups or more at once is alerted (advisers' portfolios).
    portfolio_bulk_threshold: int = Field(20, ge=2)
    # Sign-in. WebAuthn's RP id and the OIDC redirect derive from ``public_url``, never from
    # the request's Host header.
    step_up_minutes: int = Field(5, ge=1, le=30)
    mfa_challenge_minutes: int = Field(5, ge=1, le=10)
    lockout_threshold: int = Field(10, ge=3, le=10)  # ASVS V6.3.1 / CNIL: at most 10
    self_unlock_minutes: int = Field(30, ge=5)
    webauthn_only_for_privileged: bool | None = None  # None: on outside demo mode
    # Training managers see a whole organisation's trainees: passkey only (None: outside demo).
    webauthn_for_training_managers: bool | None = None
    # argon2 work bounded (memory stays flat): hashes at once in the process, per address.
    argon2_max_concurrent: int = Field(4, ge=1, le=64)
    argon2_max_per_address: int = Field(2, ge=1, le=64)
    argon2_queue_seconds: float = Field(2.0, ge=0, le=30)  # then 429 throttled
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    argon2_parallelism: int = Field(4, ge=1, le=16)
    oidc_issuer: str = ""  # empty: federated login off
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scope: str = "openid email given_name usual_name"
    oidc_acr_values: list[str] = Field(default_factory=lambda: ["eidas2", "eidas3"])
    oidc_privileged_acr_values: list[str] = Field(default_factory=lambda: ["eidas3"])

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if not self.demo and self.secret_key.get_secret_value() == DEMO_SECRET:
            raise ValueError("REMPART_SECRET_KEY must be set outside demo mode")
        if not self.demo and self.argon2_memory_kib < 19456:
            raise ValueError("argon2 memory below OWASP's 19 MiB minimum is for demo mode only")
        if self.webauthn_only_for_privileged is None:
            self.webauthn_only_for_privileged = not self.demo
        if self.webauthn_for_training_managers is None:
            self.webauthn_for_training_managers = not self.demo
        return self

    def effective_journal_origin(self) -> str:
        """The journal's origin line: explicit, or the portal's public host and path."""
        if self.journal_origin:
            return self.journal_origin
        base = self.public_url.split("://", 1)[-1].rstrip("/")
        return f"{base or 'rempart'}/journal"

    def effective_journal_url(self) -> str:
        """The journal's URL: explicit, or ``journal.db`` beside the portal's SQLite file."""
        if self.journal_url:
            return self.journal_url
        if not self.db_url.startswith("sqlite:///") or self.db_url in ("sqlite:///:memory:",):
            return "sqlite://"  # in-memory portal, in-memory journal
        path = Path(self.db_url.removeprefix("sqlite:///").split("?", 1)[0])
        return f"sqlite:///{path.with_name('journal.db')}"
