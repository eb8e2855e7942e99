"""Getting a message out: SMTP (STARTTLS, TLS or plain, optional auth) or the outbox directory.

With ``smtp_host`` empty, every message is written as an ``.eml`` file to ``<data_dir>/outbox``
(atomically: a temporary file renamed into place), for a local MTA, a script, or a person to pick
up. With SMTP configured, one connection is kept open for a whole digest run.

Failures are sorted into three kinds, because each needs a different reaction:

- :class:`TemporaryFailure`: a 4xx answer, a dropped or refused connection, a timeout. Retried with
  exponential backoff (``smtp_retries``, ``smtp_retry_delay``); if it still fails, the digest is
  *deferred* and a later run tries again.
- :class:`PermanentFailure`: a 5xx answer to the recipient or the message (a bounce). Not retried;
  recorded, and the address is suspended after ``mail_bounce_limit`` of them in a row.
- :class:`MailConfigError`: the server refuses *us* (authentication, sender address, TLS): no
  subscriber is at fault, so nobody's bounce count moves and the run stops with one clear line.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Callable, Protocol

from paperboy.errors import PaperboyError
from paperboy.settings import Settings


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """The server refused this recipient or message for good (a bounce)."""


class MailConfigError(PaperboyError):
    """The mail server refuses Paperboy itself (auth, sender, TLS); fix the smtp_* settings."""


class Transport(Protocol):
    def send(self, message: bytes, sender: str, recipients: list[str]) -> None: ...

    def close(self) -> None: ...


def _envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    sender = parseaddr(str(msg["From"]))[1]
    recipients = [addr for _, addr in getaddresses([str(v) for v in msg.get_all("To", [])]) if addr]
    return sender, recipients


class OutboxTransport:
    """Writes each message to ``<dir>/<time>-<n>.eml``; a file that exists is complete."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._n = 0

    def send(self, message: bytes, sender: str, recipients: list[str]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._n += 1
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}-{self._n}.eml"
            tmp = self.directory / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(message)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write to outbox {self.directory}: {exc}") from exc

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP session reused for many messages; reconnects after any failure."""

    def __init__(self, host: str, port: int, security: str = "starttls", user: str = "",
                 password: str = "", timeout: float = 30.0):
        if security not in ("starttls", "tls", "none"):
            raise MailConfigError(
                f"setting smtp_security is {security!r}; use starttls, tls or none")
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            if self.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=context)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise MailConfigError(
                        f"SMTP server {self.host}:{self.port} does not offer STARTTLS; "
                        "set smtp_security to tls or none")
                conn.starttls(context=context)
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailConfigError(
                f"SMTP server {self.host}:{self.port} refused the login of {self.user!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailConfigError(f"SMTP server {self.host}:{self.port}: {exc}") from None
        except ssl.SSLError as exc:
            raise MailConfigError(f"TLS with {self.host}:{self.port} failed: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"cannot connect to SMTP server {self.host}:{self.port}: "
                                   f"{exc}") from exc
        return conn

    def send(self, message: bytes, sender: str, recipients: list[str]) -> None:
        if self._conn is None:
            self._conn = self._connect()
        try:
            refused = self._conn.sendmail(sender, recipients, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items())
            self._reset_after_error()
            if codes and all(c >= 500 for c in codes):
                raise PermanentFailure(detail) from None
            raise TemporaryFailure(detail) from None
        except smtplib.SMTPSenderRefused as exc:
            self._reset_after_error()
            if exc.smtp_code >= 500:
                raise MailConfigError(
                    f"SMTP server refused the sender {exc.sender!r}: {exc.smtp_code} "
                    f"{_text(exc.smtp_error)}; check mail_from") from None
            raise TemporaryFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:  # DATA refused and friends
            self._drop()
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            raise TemporaryFailure(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            self._drop()
            raise TemporaryFailure(f"SMTP connection to {self.host}:{self.port} failed: "
                                   f"{exc or type(exc).__name__}") from exc
        if refused:  # only possible with several recipients; ours have one
            raise PermanentFailure("; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in refused.items()))

    def _reset_after_error(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]


class Mailer:
    """Sends :class:`EmailMessage` objects through a transport, retrying temporary failures."""

    def __init__(self, transport: Transport, retries: int = 3, retry_delay: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.transport = transport
        self.retries = max(0, retries)
        self.retry_delay = retry_delay
        self._sleep = sleep
        #: count of messages handed over successfully (for reports and benchmarks)
        self.sent = 0

    def send(self, msg) -> None:
        """Send an :class:`EmailMessage` or a pre-serialized ``render.Outgoing``."""
        if isinstance(msg, EmailMessage):
            sender, recipients = _envelope(msg)
            data = msg.as_bytes()
        else:
            data, sender, recipients = msg.data, msg.sender, msg.recipients
        self.send_bytes(data, sender, recipients)

    def send_bytes(self, data: bytes, sender: str, recipients: list[str]) -> None:
        attempt = 0
        while True:
            try:
                self.transport.send(data, sender, recipients)
                self.sent += 1
                return
            except TemporaryFailure:
                if attempt >= self.retries:
                    raise
                self._sleep(self.retry_delay * (2 ** attempt))
                attempt += 1

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Mailer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def outbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "outbox"


def make_mailer(settings: Settings, sleep: Callable[[float], None] = time.sleep) -> Mailer:
    """SMTP when ``smtp_host`` is set, else the outbox directory."""
    if settings.smtp_host:
        transport: Transport = SmtpTransport(
            settings.smtp_host, settings.smtp_port, settings.smtp_security,
            settings.smtp_user, settings.smtp_password, settings.smtp_timeout,
        )
    else:
        transport = OutboxTransport(outbox_dir(settings))
    return Mailer(transport, settings.smtp_retries, settings.smtp_retry_delay, sleep=sleep)
