"""Every error Rempart raises on purpose.

RempartError
├── InvalidRequest            malformed input (400 invalid_request)
│   └── WeakPassword          a new password the policy refuses
├── NotFound                  no such object, or outside the caller's scope (404 not_found)
├── Unauthenticated           no/expired session, bad credentials (401 unauthenticated)
│   ├── MfaRequired           first factor accepted, second still needed
│   ├── SessionRevoked        session ended by the guard or an administrator
│   └── StepUpRequired        prove the second factor again
├── CsrfRejected              missing or wrong X-CSRF-Token (403 csrf)
├── Forbidden                 role may not use this at all (403 forbidden)
├── AccountLocked             (403 account_locked)
├── AccessSuspended           account, organisation or app suspended (403 access_suspended)
├── Conflict                  state does not allow it (409 conflict)
├── BudgetExhausted           exposure budget reached (429 budget_exhausted, retry_after)
├── Throttled                 too many attempts (429 throttled, retry_after)
├── ServiceUnavailable        a dependency is unreachable: fail closed (503, Retry-After)
│   ├── JournalUnavailable    the journal cannot record (down, full, stalled): no data leaves
│   └── DatabaseUnavailable   the portal's database cannot be reached
├── JournalTampered           the journal does not verify (seq of the first bad entry)
└── PolicyError               a policy or settings file is invalid (line named)

Only ``web/errors.py`` turns these into HTTP answers.
"""

from __future__ import annotations


class RempartError(Exception):
    """Root of every deliberate Rempart error."""

    code = "error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequest(RempartError):
    code = "invalid_request"


class NotFound(RempartError):
    """Deliberately carries no detail: absent and out-of-scope must look the same."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__("")


class Unauthenticated(RempartError):
    code = "unauthenticated"


class MfaRequired(Unauthenticated):
    code = "mfa_required"


class SessionRevoked(Unauthenticated):
    code = "session_revoked"


class StepUpRequired(Unauthenticated):
    code = "step_up_required"


class CsrfRejected(RempartError):
    code = "csrf"


class Forbidden(RempartError):
    code = "forbidden"


class AccountLocked(RempartError):
    code = "account_locked"


class AccessSuspended(RempartError):
    code = "access_suspended"


class Conflict(RempartError):
    code = "conflict"


class BudgetExhausted(RempartError):
    code = "budget_exhausted"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))


class Throttled(RempartError):
    code = "throttled"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, int(retry_after))


class JournalTampered(RempartError):
    code = "journal_tampered"

    def __init__(self, seq: int, detail: str = "") -> None:
        super().__init__(detail or f"first bad entry: {seq}")
        self.seq = seq


class PolicyError(RempartError):
    code = "policy_error"


class ServiceUnavailable(RempartError):
    """A dependency the guard needs is down: data requests fail closed (503)."""

    code = "guard_unavailable"
    retry_after = 5


class JournalUnavailable(ServiceUnavailable):
    """The journal could not record the request in time: the data must not leave (503)."""

    code = "journal_unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The portal's database is unreachable: nothing is answered from it (503)."""

    code = "database_unavailable"


class WeakPassword(InvalidRequest):
    """A new password the policy refuses; ``detail`` says why, never echoing the password."""
