"""Wires the mail: SMTP when a server is configured (DKIM-signed when a key is), else the
memory mailer (echoed in demo)."""

from __future__ import annotations

import logging
from contextlib import ExitStack

from rempart.mail.adapters.memory import MemoryMailer
from rempart.mail.adapters.smtp import SmtpMailer
from rempart.mail.background import BackgroundMailer
from rempart.mail.dkim import DkimKey
from rempart.mail.ports import Mailer
from rempart.settings import Settings

log = logging.getLogger("rempart.mail")


def dkim_key(settings: Settings) -> DkimKey | None:
    """The configured DKIM key, or None when mail is not to be signed."""
    if not settings.dkim_key_file:
        return None
    domain = settings.dkim_domain or settings.mail_from.rpartition("@")[2]
    return DkimKey.from_file(settings.dkim_selector, domain, settings.dkim_key_file)


def open_mailer(settings: Settings) -> Mailer:
    """The portal's mailer."""
    if settings.smtp_host:
        key = dkim_key(settings)
        if key is None and not settings.demo:
            log.warning(
                "outgoing mail is not DKIM-signed: set REMPART_DKIM_KEY_FILE (receivers applying "
                "the domain's DMARC policy will reject or quarantine it)"
            )
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from, dkim_key=key)
    return MemoryMailer(echo=settings.demo)


def background_mailer(mailer: Mailer, resources: ExitStack) -> Mailer:
    """``mailer`` behind a worker thread, for senders whose answer must not wait for the mail;
    what is queued is sent when ``resources`` close."""
    background = BackgroundMailer(mailer)
    resources.callback(background.close)
    return background
