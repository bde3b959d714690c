"""Sign-in use cases: password then a second factor, federated login, sessions, factors.

A password alone never opens a session. Every decision emits a security event through the
journal port (signed in, failed, MFA failed, locked, unlocked, session revoked, ...).
"""
