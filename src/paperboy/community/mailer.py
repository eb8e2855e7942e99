"""Account e-mail (password reset) through the mail layer.

Delivery goes through :func:`paperboy.mail.delivery.make_mailer`: SMTP when ``smtp_host`` is
set, else ``.eml`` files in ``<data_dir>/outbox`` (written atomically). :func:`write_to_outbox`
is the same fallback for an installation without the mail layer.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path

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


def outbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def write_to_outbox(settings: Settings, msg: EmailMessage) -> Path:
    folder = outbox_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(msg.as_bytes())
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / name


def send(settings: Settings, to: str, subject: str, text: str) -> bool:
    """Deliver through the mail layer (SMTP, or its outbox when no SMTP server is configured).

    Returns False (and logs) when delivery failed: a web request must not fail, nor reveal
    anything, because the mail server is down.
    """
    msg = build_message(settings, to, subject, text)
    try:
        from paperboy.mail.delivery import make_mailer
    except ImportError:  # an installation without the mail layer
        write_to_outbox(settings, msg)
        return True
    try:
        with make_mailer(settings) as mailer:
            mailer.retries = min(mailer.retries, 1)  # someone is waiting for the page
            mailer.send(msg)
    except Exception as exc:  # SMTP down, refused, misconfigured: log it, keep the page working
        log.warning("could not send %r to %s: %s", subject, to, exc)
        return False
    return True
