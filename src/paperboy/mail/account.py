"""Account e-mail (password reset): one plain message through the same mailer as digests.

SMTP when ``smtp_host`` is set, else ``.eml`` files in ``<data_dir>/outbox``
(:func:`paperboy.mail.delivery.make_mailer`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from paperboy.mail.delivery import make_mailer
from paperboy.settings import Settings

log = logging.getLogger(__name__)


def build_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(domain="paperboy.local")
    msg.set_content(text)
    return msg


def send_account_mail(settings: Settings, to: str, subject: str, text: str) -> bool:
    """Deliver one account message; False (and logged) when delivery failed: a web request
    must not fail, nor reveal anything, because the mail server is down."""
    msg = build_message(settings, to, subject, text)
    try:
        with make_mailer(settings) as mailer:
            mailer.retries = min(mailer.retries, 1)  # someone is waiting for the page
            mailer.send(msg)
    except Exception as exc:  # SMTP down, refused, misconfigured: log it, keep the page working
        log.warning("could not send %r to %s: %s", subject, to, exc)
        return False
    return True
