"""Turning digests and notices into e-mail messages: multipart plain text + HTML (inline CSS).

Templates live in ``paperboy/mail/templates`` (``*.html`` autoescaped, ``*.txt`` plain). Every
digest carries the RFC 8058 headers: ``List-Unsubscribe`` with the instance's signed one-click URL
and a ``mailto:``, and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``; every message a
``Message-ID``, a ``Date`` and the ``From`` of ``settings.mail_from``.
"""

from __future__ import annotations

import secrets
import textwrap
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from paperboy.mail.compose import AlertSection, Digest
from paperboy.mail.tokens import MailTokens
from paperboy.settings import Settings
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
    return env


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

    def stop_alert(self, sub: Subscriber, section_or_saved) -> str:
        saved = getattr(section_or_saved, "saved", section_or_saved)
        return f"{self.base_url}/mail/alerts/{self.tokens.alert(sub, saved)}/stop"


class MessageBuilder:
    def __init__(self, settings: Settings, tokens: MailTokens):
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.links = Links(self.base_url, tokens)
        self.tokens = tokens
        self.env = _environment()
        self.from_header = settings.mail_from
        self.from_address = parseaddr(settings.mail_from)[1] or "paperboy@localhost"
        self.domain = self.from_address.rpartition("@")[2] or "localhost"
        self._digest_html = self.env.get_template("digest.html")
        self._digest_txt = self.env.get_template("digest.txt")

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
        token = self.tokens.manage(sub)
        url = f"{self.base_url}/mail/unsubscribe/{token}"
        mailto = f"mailto:{self.from_address}?subject=" + quote(f"unsubscribe {token}")
        msg["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["List-Id"] = f"Paperboy digests <digest.{self.domain}>"
        msg["Auto-Submitted"] = "auto-generated"

    # -- digests --------------------------------------------------------------------------

    def digest_subject(self, d: Digest) -> str:
        if d.period == "weekly":
            y, w, _ = d.window_start.isocalendar()
            when = f"week {w}, {y}"
        else:
            when = f"{d.window_start:%b} {d.window_start.day}, {d.window_start:%Y}"
        parts = []
        if d.trending:
            parts.append(f"{len(d.trending)} trending paper{'s' if len(d.trending) != 1 else ''}")
        n_alert = sum(len(a.papers) for a in d.alerts)
        if n_alert:
            parts.append(f"{n_alert} new for your alerts")
        return f"Paperboy {d.period} digest, {when}: " + ", ".join(parts)

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
            heading=subject.removeprefix("Paperboy "),
            preferences_url=self.links.preferences(sub),
            unsubscribe_url=self.links.unsubscribe(sub),
        )
        return subject, self._digest_txt.render(ctx), self._digest_html.render(ctx)

    def digest(self, d: Digest, message_id: str | None = None) -> EmailMessage:
        subject, text, html = self.render_digest(d)
        msg = self._message(d.subscriber.email, subject, text, html, message_id)
        self._list_headers(msg, d.subscriber)
        return msg

    # -- subscription mails -----------------------------------------------------------------

    def confirmation(self, sub: Subscriber) -> EmailMessage:
        subject = "Confirm your Paperboy subscription"
        ctx = dict(subject=subject, heading="confirm your subscription", email=sub.email,
                   confirm_url=self.links.confirm(sub), base_url=self.base_url,
                   hours=self.settings.mail_confirm_hours)
        return self._message(sub.email, subject, self.env.get_template("confirm.txt").render(ctx),
                             self.env.get_template("confirm.html").render(ctx))

    def notice(self, sub: Subscriber) -> EmailMessage:
        subject = "You already get Paperboy digests"
        ctx = dict(subject=subject, heading="already subscribed", email=sub.email,
                   preferences_url=self.links.preferences(sub),
                   unsubscribe_url=self.links.unsubscribe(sub), base_url=self.base_url)
        msg = self._message(sub.email, subject, self.env.get_template("notice.txt").render(ctx),
                            self.env.get_template("notice.html").render(ctx))
        self._list_headers(msg, sub)
        return msg


__all__ = ["AlertSection", "Links", "MessageBuilder"]
