"""Containment: what the guard (and the security team) do to an abused account, at once."""

from __future__ import annotations

from rempart.kernel.actors import App
from rempart.kernel.context import ClientInfo
from rempart.kernel.tags import Decision, Tag
from rempart.signin.model import AccountLock, EndReason
from rempart.signin.service.deps import AuthDeps
from rempart.signin.service.events import emit
from rempart.signin.service.sessions import end_sessions

# Containment acts on the server's own authority; its events carry no client of their own.
_SERVER = ClientInfo(address="", user_agent="rempart-guard", network="server")


class SessionContainment:
    """Implements ``Containment`` with the sign-in stores: sessions, locks, app switches."""

    def __init__(self, auth: AuthDeps) -> None:
        self.auth = auth

    def revoke_session(self, session_id: str, reason: str) -> None:
        """End one session now; its next request answers ``session_revoked``."""
        if self.auth.revocations.end_public(
            session_id, self.auth.clock.now(), str(EndReason.GUARD)
        ):
            emit(
                self.auth,
                Tag.AUTH_SESSION_REVOKED,
                Decision.REVOKE,
                _SERVER,
                session_id=session_id,
                reason=str(EndReason.GUARD),
                details={"rule": reason},
            )

    def lock_account(self, login: str, reason: str) -> None:
        """Lock the account and end all its sessions; unlocking takes a human."""
        agent = self.auth.directory.agent_by_login(login)
        if agent is None:
            return
        self.auth.locks.lock(AccountLock(agent.id, self.auth.clock.now(), reason))
        emit(
            self.auth,
            Tag.AUTH_ACCOUNT_LOCKED,
            Decision.LOCK,
            _SERVER,
            agent=agent,
            reason=reason,
        )
        end_sessions(self.auth, _SERVER, EndReason.ACCOUNT_LOCKED, actor=None, agent_id=agent.id)

    def suspend_org_app(self, org_id: str, app: str, reason: str) -> None:
        """Switch one organisation's access to one app off."""
        self.auth.apps.set_app_enabled(App(app), org_id, enabled=False)
        emit(
            self.auth,
            Tag.ADMIN_APP_SUSPENDED,
            Decision.DENY,
            _SERVER,
            reason=reason,
            details={"org_id": org_id, "app": app},
        )
