"""Subscriptions as the web pages, the API and the CLI see them.

Every action that changes a subscription is authenticated by a signed link (see
:mod:`paperboy.mail.tokens`), never by a login: the address owner is whoever reads the mail.

Subscribing never tells the requester anything about the address: the caller gets the same answer
for a new, pending, active or unsubscribed address, the database work is the same, and the mail
(a confirmation link, or an "already subscribed" notice to the owner) is sent after the response,
so its cost never shows in the response time either.
"""

from __future__ import annotations

import logging
import re
import threading
from email.message import EmailMessage
from typing import Sequence

from paperboy.mail.addresses import InvalidAddress, normalize_email, normalize_query
from paperboy.mail.delivery import (
    MailConfigError,
    Mailer,
    PermanentFailure,
    TemporaryFailure,
    make_mailer,
)
from paperboy.mail.render import MessageBuilder
from paperboy.mail.tokens import MailTokens, TokenError
from paperboy.secret_key import load_secret_key
from paperboy.settings import Settings
from paperboy.storage import Store
from paperboy.storage.subscriptions import SavedSearch, Subscriber

log = logging.getLogger(__name__)

PERIODS = ("daily", "weekly")
MAX_PAPERS = 50
MAX_ALERTS = 20
MAX_CATEGORIES = 30
_CATEGORY = re.compile(r"^[a-z][a-z-]{0,15}(\.[A-Za-z][A-Za-z-]{0,15})?$")


class PreferenceError(ValueError):
    """A preference value that cannot be used (one-line message for the form)."""


def clean_period(value: str | None) -> str:
    value = (value or "daily").strip().lower()
    if value not in PERIODS:
        raise PreferenceError(f"period must be daily or weekly, not {value[:20]!r}")
    return value


def clean_categories(values: Sequence[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    out: list[str] = []
    for raw in values:
        for value in str(raw).replace(",", " ").split():
            if not _CATEGORY.match(value):
                raise PreferenceError(f"{value[:40]!r} is not an arXiv category (like cs.LG)")
            if value not in out:
                out.append(value)
    if len(out) > MAX_CATEGORIES:
        raise PreferenceError(f"at most {MAX_CATEGORIES} categories")
    return out


def clean_max_papers(value, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise PreferenceError("number of papers must be a whole number") from None
    if not 1 <= n <= MAX_PAPERS:
        raise PreferenceError(f"number of papers must be between 1 and {MAX_PAPERS}")
    return n


class MailService:
    def __init__(self, settings: Settings, store: Store, mailer: Mailer | None = None,
                 secret_key: str | None = None):
        self.settings = settings
        self.store = store
        self.repo = store.subscriptions
        self.tokens = MailTokens(secret_key or load_secret_key(settings.data_dir),
                                 settings.mail_confirm_hours * 3600)
        self.builder = MessageBuilder(settings, self.tokens)
        self._mailer = mailer
        self._lock = threading.Lock()

    # -- subscribing ----------------------------------------------------------------------

    def request_subscription(self, email: str, period: str | None = None,
                             categories: Sequence[str] | str | None = None,
                             max_papers=None, user_id: int | None = None) -> EmailMessage | None:
        """Record the request; return the mail to send *after* answering (or None).

        Raises :class:`InvalidAddress` / :class:`PreferenceError` for malformed input only (that
        reveals nothing about stored addresses).
        """
        address, key = normalize_email(email)
        result = self.repo.subscribe(
            address, key, clean_period(period), clean_categories(categories),
            clean_max_papers(max_papers, self.settings.digest_papers), user_id=user_id,
        )
        if result.mail == "confirm":
            return self.builder.confirmation(result.subscriber)
        if result.mail == "notice":
            return self.builder.notice(result.subscriber)
        return None

    def request_alert(self, email: str, query: str,
                      user_id: int | None = None) -> EmailMessage | None:
        """A search saved from the search page: the address gets a signed link that confirms the
        alert (and the subscription, when new) -- double opt-in, whatever the address's state.

        The same rules as :meth:`request_subscription`: malformed input raises, nothing reveals
        whether the address is known, and an address gets at most one such mail per few minutes.
        """
        text, _ = self._query(query)
        address, key = normalize_email(email)
        result = self.repo.subscribe(
            address, key, clean_period(None), [],
            clean_max_papers(None, self.settings.digest_papers), user_id=user_id,
        )
        if result.mail is None:
            return None
        return self.builder.alert_confirmation(result.subscriber, text)

    @staticmethod
    def _query(query: str) -> tuple[str, str]:
        try:
            return normalize_query(query)
        except ValueError as exc:
            raise PreferenceError(str(exc)) from None

    def check_alert_request(self, token: str) -> tuple[Subscriber, str]:
        """(subscriber, query) of an alert confirmation link, changing nothing (GET)."""
        sub_id, nonce, query = self.tokens.read_alert_request(token)
        return self._subscriber(sub_id, nonce), query

    def confirm_alert(self, token: str) -> tuple[Subscriber, SavedSearch]:
        """Confirm the subscription if it waits for that, then add the alert."""
        sub, query = self.check_alert_request(token)
        if sub.status == "pending":
            sub = self.repo.confirm(sub.id, sub.token_nonce) or sub
        if sub.status != "active":
            raise TokenError("this address unsubscribed; subscribe again to get alerts")
        return sub, self._add_saved(sub, query)

    def deliver(self, msg: EmailMessage | None) -> bool:
        """Send one subscription mail (a background task); failures are logged, not raised."""
        if msg is None:
            return False
        try:
            with self._lock:  # one SMTP session at a time per service
                if self._mailer is not None:
                    self._mailer.send(msg)
                else:
                    with make_mailer(self.settings) as mailer:
                        mailer.send(msg)
            return True
        except PermanentFailure as exc:
            sub = self.repo.get_by_email_key(normalize_email(str(msg["To"]))[1])
            if sub is not None:
                self.repo.record_bounce(sub.id, str(exc), self.settings.mail_bounce_limit)
            log.warning("mail to %s bounced: %s", msg["To"], exc)
        except (TemporaryFailure, MailConfigError) as exc:
            log.warning("mail to %s not sent: %s", msg["To"], exc)
        return False

    # -- signed links -----------------------------------------------------------------------

    def confirm(self, token: str) -> Subscriber:
        sub_id, nonce = self.tokens.read_confirm(token)
        sub = self.repo.confirm(sub_id, nonce)
        if sub is None:
            raise TokenError("this confirmation link is not valid")
        return sub

    def check_confirm(self, token: str) -> Subscriber:
        """The subscriber a confirmation link is for, without confirming (GET shows a button)."""
        sub_id, nonce = self.tokens.read_confirm(token)
        return self._subscriber(sub_id, nonce)

    def _subscriber(self, sub_id: int, nonce: str) -> Subscriber:
        sub = self.repo.get(sub_id)
        if sub is None or sub.token_nonce != nonce:
            raise TokenError("this link is not valid")
        return sub

    def subscriber(self, manage_token: str) -> Subscriber:
        return self._subscriber(*self.tokens.read_manage(manage_token))

    def unsubscribe(self, manage_token: str) -> Subscriber:
        sub_id, nonce = self.tokens.read_manage(manage_token)
        sub = self.repo.unsubscribe(sub_id, nonce)
        if sub is None:
            raise TokenError("this link is not valid")
        return sub

    def save_preferences(self, manage_token: str, period: str | None, categories,
                         max_papers) -> Subscriber:
        sub = self.subscriber(manage_token)
        updated = self.repo.update_preferences(
            sub.id, sub.token_nonce, clean_period(period), clean_categories(categories),
            clean_max_papers(max_papers, sub.max_papers),
        )
        assert updated is not None
        return updated

    def saved_searches(self, sub: Subscriber) -> list[SavedSearch]:
        return self.repo.saved_searches(sub.id)

    def add_alert(self, manage_token: str, query: str) -> SavedSearch:
        return self._add_saved(self.subscriber(manage_token), query)

    def _add_saved(self, sub: Subscriber, query: str) -> SavedSearch:
        text, key = normalize_query(query)
        current = self.repo.saved_searches(sub.id)
        if len(current) >= MAX_ALERTS and all(s.query_key != key for s in current):
            raise PreferenceError(f"at most {MAX_ALERTS} saved searches; stop one first")
        return self.repo.add_saved_search(sub.id, text, key)

    def stop_alert_by_id(self, manage_token: str, saved_search_id: int) -> SavedSearch:
        sub = self.subscriber(manage_token)
        saved = self.repo.stop_saved_search(sub.id, saved_search_id)
        if saved is None:
            raise TokenError("no such alert for this subscription")
        return saved

    def alert_for(self, alert_token: str) -> tuple[Subscriber, SavedSearch]:
        sub_id, nonce, ss_id = self.tokens.read_alert(alert_token)
        sub = self._subscriber(sub_id, nonce)
        saved = self.repo.get_saved_search(ss_id)
        if saved is None or saved.subscriber_id != sub.id:
            raise TokenError("this link is not valid")
        return sub, saved

    def stop_alert(self, alert_token: str) -> tuple[Subscriber, SavedSearch]:
        sub, saved = self.alert_for(alert_token)
        stopped = self.repo.stop_saved_search(sub.id, saved.id)
        assert stopped is not None
        return sub, stopped

    def subscription_of(self, email: str) -> Subscriber | None:
        try:
            return self.repo.get_by_email_key(normalize_email(email)[1])
        except InvalidAddress:
            return None

    # -- links for pages ----------------------------------------------------------------------

    def manage_token(self, sub: Subscriber) -> str:
        return self.tokens.manage(sub)

    def alert_token(self, sub: Subscriber, saved: SavedSearch) -> str:
        return self.tokens.alert(sub, saved)


__all__ = ["InvalidAddress", "MailService", "PreferenceError", "TokenError"]
