"""Taking access away from an account: switch it off, erase its factors, cancel its requests.

The lifecycle jobs, the reviews, the kill switches and a manager declaring a leaver all end an
account's access the same way, so they share these steps.
"""

from __future__ import annotations

import datetime as dt

from rempart.governance.model import DisabledReason, RequestStatus, leaves_today
from rempart.governance.service.deps import GovernanceDeps
from rempart.governance.service.events import record
from rempart.kernel.actors import Agent
from rempart.kernel.context import ClientInfo, RequestContext
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import EndReason
from rempart.signin.service.sessions import end_sessions

_NO_CLIENT = ClientInfo(address="")


def cancel_requests_of(
    gov: GovernanceDeps, ctx: RequestContext | None, agent_id: int, reason: str
) -> int:
    """Cancel every pending request made by an account being suspended; return how many."""
    now = ctx.now if ctx is not None else gov.clock.now()
    count = 0
    for request in gov.requests.requests(requested_by=agent_id, status=RequestStatus.PENDING):
        if gov.requests.decide_request(
            request.id,
            RequestStatus.CANCELLED,
            by_id=ctx.agent.id if ctx is not None else None,
            by_login=ctx.agent.login if ctx is not None else "",
            at=now,
            reason=reason,
        ):
            count += 1
            record(
                gov,
                ctx,
                Tag.ACCOUNT_REQUEST_CANCELLED,
                Decision.DENY,
                reason=reason,
                details={"request_id": request.id, "login": request.login},
                at=now,
            )
    return count


def erase_all_factors(gov: GovernanceDeps, target: Agent, at: dt.datetime) -> None:
    """Forget password, TOTP, security keys and recovery codes; enrolment becomes pending."""
    gov.accounts.erase_factors(target.id)
    gov.tokens.revoke_enrolment_tokens(target.id, at)


def disable(
    gov: GovernanceDeps, agent: Agent, reason: DisabledReason, now: dt.datetime, **facts: object
) -> bool:
    """Switch an account off (a job's or a review's reason): its sessions end, its pending
    requests and enrolment links die with it; False when it was already off."""
    if not gov.accounts.set_active(agent.id, False, str(reason)):
        return False
    ended = end_sessions(
        gov.auth, _NO_CLIENT, EndReason.ACCOUNT_DISABLED, actor=None, agent_id=agent.id
    )
    cancel_requests_of(gov, None, agent.id, f"account disabled ({reason})")
    gov.tokens.revoke_enrolment_tokens(agent.id, now)
    record(
        gov,
        None,
        Tag.LIFECYCLE_AGENT_DISABLED,
        Decision.REVOKE,
        subject=agent,
        reason=str(reason),
        details={"sessions_ended": ended, **facts},
        at=now,
    )
    return True


def disable_leaver(gov: GovernanceDeps, agent: Agent, now: dt.datetime) -> bool:
    """Disable an account whose end date has come."""
    return leaves_today(agent, now.date()) and disable(
        gov,
        agent,
        DisabledReason.END_DATE,
        now,
        end_date=agent.end_date.isoformat() if agent.end_date else None,
    )
