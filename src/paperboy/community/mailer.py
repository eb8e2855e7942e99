"""Account e-mail (password reset) through the mail layer.

When :mod:`paperboy.mail` offers ``send_message(settings, message)`` it delivers (SMTP or its
outbox); until then messages are written as ``.eml`` files to ``<data_dir>/outbox`` (atomically:
temp file + rename), which is also what the mail layer does when no SMTP server is configured.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path

from paperboy.settings import Settings


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


def send(settings: Settings, to: str, subject: str, text: str) -> None:
    msg = build_message(settings, to, subject, text)
    try:
        from paperboy.mail import send_message  # type: ignore[attr-defined]
    except ImportError:
        send_message = None
    if send_message is not None:
        send_message(settings, msg)
    else:
        write_to_outbox(settings, msg)
