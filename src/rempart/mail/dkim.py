"""DKIM signatures on outgoing mail (RFC 6376, dkimpy): the receiving server checks them against
the public key the agency's domain publishes at ``SELECTOR._domainkey.DOMAIN``, so that a mail
claiming to come from the agency and not signed by it fails DMARC (docs/mail-authentication.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dkim

# Signed header fields: those a person reads or checks, and the message's reference.
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"X-Rempart-Reference",
)


@dataclass(frozen=True, slots=True)
class DkimKey:
    """The agency's signing key: its selector, its domain and the private key (PEM)."""

    selector: str
    domain: str
    private_key: bytes = b""

    @classmethod
    def from_file(cls, selector: str, domain: str, path: str) -> DkimKey:
        """Read the PEM key at ``path`` (refuses an empty or unreadable file at start-up)."""
        pem = Path(path).read_bytes()
        if b"PRIVATE KEY" not in pem:
            raise ValueError(f"{path} holds no PEM private key")
        return cls(selector, domain, pem)

    def __repr__(self) -> str:  # the key itself never shows up in a log or a traceback
        return f"DkimKey(selector={self.selector!r}, domain={self.domain!r})"

    def signature(self, message: bytes) -> bytes:
        """The ``DKIM-Signature:`` header line (with its CRLF) for ``message``."""
        present = {
            line.split(b":", 1)[0].strip().lower()
            for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            if b":" in line and not line[:1].isspace()
        }
        headers = [h for h in SIGNED_HEADERS if h.lower() in present]
        return bytes(
            dkim.sign(
                message,
                self.selector.encode(),
                self.domain.encode(),
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=headers,
            )
        )
