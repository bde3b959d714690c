"""Journal entries: one per access decision, written before any data leaves.

An entry's *canonical form* is the exact byte string the journal stores, hashes and signs
(stable JSON: sorted keys, no spaces, ASCII only, UTC times with microseconds). It escapes
every control character, so nothing an agent or a client types can forge a line or a field
of the journal (ASVS V16.4.1)."""

from __future__ import annotations

from enum import StrEnum


class Tag(StrEnum):
    """What happened, shaped ``source:subject:action``."""

    PORTAL_PERSON_READ = "portal:person:read"
    PORTAL_PERSON_LOOKUP = "portal:person:lookup"
    PORTAL_PORTFOLIO_LIST = "portal:portfolio:list"
    PORTAL_TRAINING_LIST = "portal:training:list"
    PORTAL_SESSION_ROSTER = "portal:session:roster"
    PORTAL_ATTENDANCE_WRITE = "portal:attendance:write"
    PORTAL_ENROLMENT_CREATE = "portal:enrolment:create"
    PORTAL_NOTE_WRITE = "portal:note:write"
    PORTAL_ROSTER_EXPORT = "portal:roster:export"
    ADMIN_APP_SUSPENDED = "admin:app:suspended"
    ADMIN_APP_RESUMED = "admin:app:resumed"
    AUTH_LOGIN_SUCCEEDED = "auth:login:succeeded"
    AUTH_LOGIN_FAILED = "auth:login:failed"
    AUTH_MFA_FAILED = "auth:mfa:failed"
    AUTH_ACCOUNT_LOCKED = "auth:account:locked"
    AUTH_ACCOUNT_UNLOCKED = "auth:account:unlocked"
    AUTH_SESSION_OPENED = "auth:session:opened"
    AUTH_SESSION_CLOSED = "auth:session:closed"
    AUTH_SESSION_REVOKED = "auth:session:revoked"
    AUTH_SESSION_ADDRESS_CHANGED = "auth:session:address_changed"  # step-up asked, no data
    AUTH_SESSION_REBOUND = "auth:session:rebound"  # a step-up moved it to the new address
    AUTH_DEVICE_BOUND = "auth:device:bound"  # DBSC: the browser registered its key
    AUTH_DEVICE_REFRESHED = "auth:device:refreshed"  # DBSC: a signed refresh, a new cookie
    AUTH_DEVICE_REFUSED = "auth:device:refused"  # DBSC: no proof, a bad or replayed one
    AUTH_STEP_UP_SUCCEEDED = "auth:step_up:succeeded"
    AUTH_RECOVERY_CODE_USED = "auth:recovery_code:used"
    AUTH_FACTOR_ADDED = "auth:factor:added"
    AUTH_FACTOR_REMOVED = "auth:factor:removed"
    AUTH_FACTOR_REFUSED = "auth:factor:refused"
    AUTH_FIRST_KEY_APPROVED = "auth:first_key:approved"
    AUTH_LOGIN_THROTTLED = "auth:login:throttled"
    AUTH_PASSWORD_CHANGED = "auth:password:changed"  # noqa: S105 - a tag, not a password
    AUTH_IDENTITY_LINKED = "auth:identity:linked"
    AUTH_IDENTITY_UNLINKED = "auth:identity:unlinked"
    GUARD_REQUEST_DENIED = "guard:request:denied"
    GUARD_SESSION_REVOKED = "guard:session:revoked"
    GUARD_ACCOUNT_LOCKED = "guard:account:locked"
    GUARD_BUDGET_EXHAUSTED = "guard:budget:exhausted"
    ACCOUNT_REQUEST_CREATED = "account:request:created"
    ACCOUNT_REQUEST_APPROVED = "account:request:approved"
    ACCOUNT_REQUEST_REFUSED = "account:request:refused"
    ACCOUNT_REQUEST_THROTTLED = "account:request:throttled"
    ACCOUNT_REQUEST_DENIED = "account:request:denied"
    ACCOUNT_REQUEST_CANCELLED = "account:request:cancelled"
    ACCOUNT_REQUEST_EXPIRED = "account:request:expired"
    ACCOUNT_APPROVAL_REFUSED = "account:approval:refused"
    ACCOUNT_AGENT_CREATED = "account:agent:created"
    ACCOUNT_AGENT_UNLOCKED = "account:agent:unlocked"
    ACCOUNT_ROLE_GRANTED = "account:role:granted"
    ACCOUNT_ROLE_REVOKED = "account:role:revoked"
    ACCOUNT_ENROLMENT_SENT = "account:enrolment:sent"
    ACCOUNT_ENROLMENT_COMPLETED = "account:enrolment:completed"
    ACCOUNT_ENROLMENT_FAILED = "account:enrolment:failed"
    ACCOUNT_FACTORS_RESET = "account:factors:reset"
    ACCOUNT_TRAINING_ATTESTED = "account:training:attested"
    ACCOUNT_END_DATE_SET = "account:end_date:set"
    ACCOUNT_IDENTITY_LINKED = "account:identity:linked"
    ACCOUNT_IDENTITY_REFUSED = "account:identity:refused"
    ADMIN_ACCOUNT_SUSPENDED = "admin:account:suspended"
    ADMIN_ACCOUNT_LIFTED = "admin:account:lifted"
    ADMIN_ORG_SUSPENDED = "admin:org:suspended"
    ADMIN_ORG_LIFTED = "admin:org:lifted"
    LIFECYCLE_AGENT_DISABLED = "lifecycle:agent:disabled"
    LIFECYCLE_FACTORS_ERASED = "lifecycle:factors:erased"
    REVIEW_CAMPAIGN_OPENED = "review:campaign:opened"
    REVIEW_CAMPAIGN_REMINDED = "review:campaign:reminded"
    REVIEW_ITEM_DECIDED = "review:item:decided"
    REVIEW_CAMPAIGN_CLOSED = "review:campaign:closed"
    CITIZEN_ACCESS_LOG_READ = "citizen:access_log:read"
    CITIZEN_ACCESS_FLAGGED = "citizen:access:flagged"
    CITIZEN_CHALLENGE_SENT = "citizen:challenge:sent"
    CITIZEN_CHALLENGE_FAILED = "citizen:challenge:failed"
    CITIZEN_SESSION_OPENED = "citizen:session:opened"
    JOURNAL_RETENTION_PURGED = "journal:retention:purged"
    INCIDENT_EXPOSURE_COMPUTED = "incident:exposure:computed"
    INCIDENT_RECORD_OPENED = "incident:record:opened"
    INCIDENT_RECORD_UPDATED = "incident:record:updated"
    INCIDENT_PERSONS_READ = "incident:persons:read"
    INCIDENT_PERSONS_DENIED = "incident:persons:denied"
    INCIDENT_REPORT_WRITTEN = "incident:report:written"
    INCIDENT_LETTER_SENT = "incident:letter:sent"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NOT_FOUND = "not_found"
    THROTTLE = "throttle"
    STEP_UP = "step_up"
    REVOKE = "revoke"
    LOCK = "lock"
