"""Turning digests and notices into e-mail messages: multipart plain text + HTML (inline CSS).

Templates live in ``paperboy/mail/templates`` (``*.html`` autoescaped, ``*.txt`` plain). Every
digest carries the RFC 8058 headers: ``List-Unsubscribe`` with the instance's signed one-click URL
and a ``mailto:``, and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; every message a
``Message-ID``, a ``Date`` and the ``From`` of ``settings.mail_from``.
"""

from __future__ import annotations

import binascii
import secrets
import textwrap
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from paperboy.mail.compose import AlertSection, Digest, DigestPaper
from paperboy.mail.tokens import MailTokens
from paperboy.settings import Settings
from paperboy.texmath import typeset
from paperboy.storage.subscriptions import Subscriber

TEMPLATE_DIR = Path(__file__).parent / "templates"
#: CRLF, and headers folded only past RFC 5322's 998 characters: a long List-Unsubscribe URL must
#: stay one plain token (the default 78 would turn it into RFC 2047 encoded words).
POLICY = SMTP.clone(max_line_length=998)


def _wrap(text: str, width: int = 76, indent: str = "  ") -> str:
    return textwrap.fill(text, width=width, subsequent_indent=indent)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    env.filters["wrap"] = _wrap
    env.filters["tex"] = typeset  # TeX as MathML (Apple Mail, Thunderbird); escapes the rest
    return env


@dataclass
class Outgoing:
    """A message ready for SMTP: its bytes (CRLF), envelope sender and recipient."""

    data: bytes
    sender: str
    recipients: list[str]
    message_id: str

    def as_bytes(self) -> bytes:
        return self.data


def _header_value(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode()


def _address(value: str) -> str:
    name, addr = parseaddr(value)
    if not addr:
        return _header_value(value)
    return formataddr((name, addr), charset="utf-8") if name else addr


def _qp(text: str) -> bytes:
    body = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return body.replace(b"\n", b"\r\n")


def mime_alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """multipart/alternative (text/plain + text/html, UTF-8, quoted-printable), CRLF lines.

    Written directly rather than through :mod:`email`'s generator, which is slow for digest
    runs (benchmarks/RESULTS.md, "Issue 17"); the tests parse the result back with :mod:`email`.
    """
    boundary = "=_pb_" + secrets.token_hex(12)
    lines = [f"{name}: {value}" for name, value in headers]
    lines += ["MIME-Version: 1.0",
              f'Content-Type: multipart/alternative; boundary="{boundary}"', "", ""]
    head = "\r\n".join(lines).encode("ascii")
    part = ('--{b}\r\nContent-Type: text/{sub}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    return b"".join([
        head,
        part.format(b=boundary, sub="plain").encode("ascii"), _qp(text), b"\r\n",
        part.format(b=boundary, sub="html").encode("ascii"), _qp(html), b"\r\n",
        f"--{boundary}--\r\n".encode("ascii"),
    ])


@dataclass
class Links:
    """Absolute links back to the instance, signed where they act on a subscription."""

    base_url: str
    tokens: MailTokens

    def confirm(self, sub: Subscriber) -> str:
        return f"{self.base_url}/mail/confirm/{self.tokens.confirm(sub)}"

    def preferences(self, sub: Subscriber) -> str:
        return f"{self.base_url}/mail/preferences/{self.tokens.manage(sub)}"

    def unsubscribe(self, sub: Subscriber) -> str:
        return f"{self.base_url}/mail/unsubscribe/{self.tokens.manage(sub)}"

    def confirm_alert(self, sub: Subscriber, query: str) -> str:
        return f"{self.base_url}/mail/alerts/confirm/{self.tokens.alert_request(sub, query)}"

    def stop_alert(self, sub: Subscriber, section_or_saved) -> str:
        saved = getattr(section_or_saved, "saved", section_or_saved)
        return f"{self.base_url}/mail/alerts/{self.tokens.alert(sub, saved)}/stop"


class MessageBuilder:
    def __init__(self, settings: Settings, tokens: MailTokens):
        self.settings = settings
        self.base_url = settings.link_base_url
        self.links = Links(self.base_url, tokens)
        self.tokens = tokens
        self.env = _environment()
        self.from_header = settings.mail_from
        self.from_address = parseaddr(settings.mail_from)[1] or "paperboy@localhost"
        self.domain = self.from_address.rpartition("@")[2] or "localhost"
        self._digest_html = self.env.get_template("digest.html")
        self._digest_txt = self.env.get_template("digest.txt")
        self._paper_html = self.env.get_template("_paper.html")
        self._paper_txt = self.env.get_template("_paper.txt")
        # A paper appears in many digests of one run: render its block once.
        self._html_blocks: dict[tuple, Markup] = {}
        self._text_blocks: dict[tuple, str] = {}

    def html_block(self, p: DigestPaper) -> Markup:
        key = (p.id, p.upvotes)
        block = self._html_blocks.get(key)
        if block is None:
            block = Markup(self._paper_html.render(p=p, base_url=self.base_url))
            self._html_blocks[key] = block
        return block

    def text_block(self, p: DigestPaper) -> str:
        key = (p.id, p.upvotes)
        block = self._text_blocks.get(key)
        if block is None:
            block = self._paper_txt.render(p=p, base_url=self.base_url).rstrip("\n")
            self._text_blocks[key] = block
        return block

    def new_message_id(self, kind: str = "m") -> str:
        return f"<{kind}.{secrets.token_hex(12)}@{self.domain}>"

    def _message(self, to: str, subject: str, text: str, html: str,
                 message_id: str | None = None) -> EmailMessage:
        msg = EmailMessage(policy=POLICY)
        msg["From"] = self.from_header
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = message_id or self.new_message_id()
        msg.set_content(text, cte="quoted-printable")
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        return msg

    def _list_headers(self, msg: EmailMessage, sub: Subscriber) -> None:
        for name, value in self.list_headers(sub):
            msg[name] = value

    # -- digests --------------------------------------------------------------------------

    def digest_subject(self, d: Digest) -> str:
        if d.period == "weekly":
            y, w, _ = d.window_start.isocalendar()
            when = f"week {w}, {y}"
        else:
            when = f"{d.window_start:%b} {d.window_start.day}, {d.window_start:%Y}"
        parts = []
        if d.for_you:
            parts.append(f"{len(d.for_you)} for you")
        if d.trending:
            parts.append(f"{len(d.trending)} trending paper{'s' if len(d.trending) != 1 else ''}")
        n_alert = sum(len(a.papers) for a in d.alerts)
        if n_alert:
            parts.append(f"{n_alert} new for your alerts")
        return f"Paperboy {d.period} digest, {when}: " + (", ".join(parts) or "nothing new")

    def render_digest(self, d: Digest) -> tuple[str, str, str]:
        """(subject, text, html) of a digest."""
        sub = d.subscriber
        alerts = [
            {"query": a.saved.query, "papers": a.papers, "stop_url": self.links.stop_alert(sub, a)}
            for a in d.alerts
        ]
        subject = self.digest_subject(d)
        ctx = dict(
            d=d, alerts=alerts, subject=subject, base_url=self.base_url,
            html_block=self.html_block, text_block=self.text_block,
            heading=subject.removeprefix("Paperboy "),
            preferences_url=self.links.preferences(sub),
            unsubscribe_url=self.links.unsubscribe(sub),
        )
        return subject, self._digest_txt.render(ctx), self._digest_html.render(ctx)

    def list_headers(self, sub: Subscriber) -> list[tuple[str, str]]:
        token = self.tokens.manage(sub)
        url = f"{self.base_url}/mail/unsubscribe/{token}"
        mailto = f"mailto:{self.from_address}?subject=" + quote(f"unsubscribe {token}")
        return [
            ("List-Unsubscribe", f"<{url}>, <{mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("List-Id", f"Paperboy digests <digest.{self.domain}>"),
            ("Auto-Submitted", "auto-generated"),
        ]

    def digest(self, d: Digest, message_id: str | None = None) -> Outgoing:
        subject, text, html = self.render_digest(d)
        message_id = message_id or self.new_message_id("digest")
        headers = [
            ("From", _address(self.from_header)),
            ("To", _address(d.subscriber.email)),
            ("Subject", _header_value(subject)),
            ("Date", formatdate(usegmt=True)),
            ("Message-ID", message_id),
            *self.list_headers(d.subscriber),
        ]
        return Outgoing(mime_alternative(headers, text, html), self.from_address,
                        [d.subscriber.email], message_id)

    # -- subscription mails -----------------------------------------------------------------

    def confirmation(self, sub: Subscriber) -> EmailMessage:
        subject = "Confirm your Paperboy subscription"
        ctx = dict(subject=subject, heading="confirm your subscription", email=sub.email,
                   confirm_url=self.links.confirm(sub), base_url=self.base_url,
                   hours=self.settings.mail_confirm_hours)
        return self._message(sub.email, subject, self.env.get_template("confirm.txt").render(ctx),
                             self.env.get_template("confirm.html").render(ctx))

    def alert_confirmation(self, sub: Subscriber, query: str) -> EmailMessage:
        """Confirm a search alert saved from the search page (and the subscription, if new)."""
        subject = "Confirm your Paperboy search alert"
        ctx = dict(subject=subject, heading="confirm your search alert", email=sub.email,
                   query=query, confirm_url=self.links.confirm_alert(sub, query),
                   base_url=self.base_url, hours=self.settings.mail_confirm_hours,
                   subscribed=sub.status == "active", period=sub.period)
        return self._message(sub.email, subject,
                             self.env.get_template("alert_confirm.txt").render(ctx),
                             self.env.get_template("alert_confirm.html").render(ctx))

    def notice(self, sub: Subscriber) -> EmailMessage:
        subject = "You already get Paperboy digests"
        ctx = dict(subject=subject, heading="already subscribed", email=sub.email,
                   preferences_url=self.links.preferences(sub),
                   unsubscribe_url=self.links.unsubscribe(sub), base_url=self.base_url)
        msg = self._message(sub.email, subject, self.env.get_template("notice.txt").render(ctx),
                            self.env.get_template("notice.html").render(ctx))
        self._list_headers(msg, sub)
        return msg


__all__ = ["AlertSection", "Links", "MessageBuilder", "Outgoing", "mime_alternative"]
