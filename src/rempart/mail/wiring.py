"""Wires the mail: SMTP when a server is configured, else the memory mailer (echoed in demo)."""

from __future__ import annotations

from contextlib import ExitStack

from rempart.mail.adapters.memory import MemoryMailer
from rempart.mail.adapters.smtp import SmtpMailer
from rempart.mail.background import BackgroundMailer
from rempart.mail.ports import Mailer
from rempart.settings import Settings


def open_mailer(settings: Settings) -> Mailer:
    """The portal's mailer."""
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)
    return MemoryMailer(echo=settings.demo)


def background_mailer(mailer: Mailer, resources: ExitStack) -> Mailer:
    """``mailer`` behind a worker thread, for senders whose answer must not wait for the mail;
    what is queued is sent when ``resources`` close."""
    background = BackgroundMailer(mailer)
    resources.callback(background.close)
    return background
