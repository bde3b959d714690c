"""``PyotpTotp``: RFC 6238 codes (pyotp), 30-second steps, one step of drift either way."""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

DIGITS = 6
INTERVAL = 30


class PyotpTotp:
    """Implements ``TotpVerifier``."""

    def new_secret(self) -> str:
        """160 random bits, base32 (pyotp draws from ``secrets``: ASVS V6.5.3)."""
        return pyotp.random_base32(32)

    def matching_step(self, secret: str, code: str, at: dt.datetime) -> int | None:
        """The step in [now-1, now+1] whose code equals ``code``, compared in constant time."""
        if len(code) != DIGITS or not code.isascii() or not code.isdigit():
            return None
        try:
            totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
            now_step = totp.timecode(at)
            found = None
            for step in (now_step - 1, now_step, now_step + 1):
                if hmac.compare_digest(totp.generate_otp(step), code):
                    found = step
        except (ValueError, TypeError):  # a corrupt secret: refuse, never crash
            return None
        return found

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI for authenticator apps."""
        return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
            name=account, issuer_name=issuer
        )
