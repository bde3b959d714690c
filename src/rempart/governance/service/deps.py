"""What the governance use cases are given: the ports, wired by ``governance.wiring``."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.governance.model import GovernanceRules
from rempart.governance.ports import (
    AccountListings,
    AccountRecords,
    AccountRequests,
    AccountStandings,
    EnrolmentTokens,
    OrgSuspensions,
    PrivilegeBatches,
    ReviewCampaigns,
    ReviewItems,
)
from rempart.guard.ports import AlertSink
from rempart.journal.ports import JournalWriter
from rempart.kernel.ports import AppSwitches, Clock, Directory, Transactions
from rempart.mail.ports import Mailer
from rempart.signin.service.deps import AuthDeps


@dataclass(frozen=True, slots=True)
class GovernanceDeps:
    """What the privileged-account governance use cases are given (four eyes, reviews, ...)."""

    standings: AccountStandings
    accounts: AccountRecords
    listings: AccountListings
    requests: AccountRequests
    tokens: EnrolmentTokens
    org_suspensions: OrgSuspensions
    campaigns: ReviewCampaigns
    review_items: ReviewItems
    # The portal database's units of work: each step of a scheduled job is one (an HTTP
    # request already is one, opened by the web layer, and the steps join it).
    transactions: Transactions
    directory: Directory  # agents and organisations by id or login
    apps: AppSwitches  # the partner apps' kill switches
    journal: JournalWriter
    alerts: AlertSink
    clock: Clock
    mailer: Mailer
    rules: GovernanceRules
    auth: AuthDeps  # sign-in: credentials, sessions to revoke, password hashing, TOTP
    batches: PrivilegeBatches  # the privileged rows of imports, one request per import
