"""Mail subscribers, their saved searches and digest deliveries (the mail area's storage).

The rules that need a transaction live here, so they hold on SQLite and PostgreSQL alike:

- :meth:`SubscriptionRepository.subscribe` decides in one transaction what a (re-)subscription
  does, and does the same database work whatever the address's state, so callers can answer
  identically for new and known addresses.
- :meth:`SubscriptionRepository.claim` inserts the unique ``(subscriber_id, period_key)``
  delivery row (or takes over a *deferred* one with a compare-and-set update) before a digest is
  sent: whoever commits that row sends, everyone else skips. That is the at-most-once half of
  "exactly once"; the digest job supplies the other half (see :mod:`paperboy.mail.digest`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Literal, Mapping, Sequence

from sqlalchemy import Connection, and_, func, select, update

from paperboy.storage.papers import _insert, utcnow
from paperboy.storage.schema import (
    mail_deliveries,
    mail_saved_searches,
    mail_subscribers,
    papers,
)

Status = Literal["pending", "active", "unsubscribed", "suspended"]
#: Delivery states that end a period for a subscriber (a *deferred* one may be retried).
FINAL_DELIVERY_STATES = ("sending", "sent", "bounced", "skipped")


@dataclass
class Subscriber:
    id: int
    email: str
    status: str
    period: str
    categories: list[str]
    max_papers: int
    token_nonce: str
    user_id: int | None = None
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    bounce_count: int = 0


@dataclass
class SavedSearch:
    id: int
    subscriber_id: int
    query: str
    query_key: str
    active: bool
    high_water: datetime
    created_at: datetime | None = None


@dataclass
class SubscribeResult:
    subscriber: Subscriber
    #: which mail the address should get now: a confirmation link, an "already subscribed"
    #: notice with the preferences link, or nothing (rate limit)
    mail: Literal["confirm", "notice"] | None


@dataclass
class ClaimedDelivery:
    subscriber_id: int
    period_key: str
    job_id: str
    message_id: str
    attempts: int = 1


@dataclass
class DeliveryCounts:
    by_status: dict[str, int] = field(default_factory=dict)

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)


def _subscriber(row: Mapping) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        status=row["status"],
        period=row["period"],
        categories=list(row["categories"] or []),
        max_papers=row["max_papers"],
        token_nonce=row["token_nonce"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        bounce_count=row["bounce_count"] or 0,
    )


def _saved(row: Mapping) -> SavedSearch:
    return SavedSearch(
        id=row["id"],
        subscriber_id=row["subscriber_id"],
        query=row["query"],
        query_key=row["query_key"],
        active=bool(row["active"]),
        high_water=row["high_water"],
        created_at=row["created_at"],
    )


class SubscriptionRepository:
    """All reads and writes of mail subscribers, saved searches and deliveries."""

    def __init__(self, engine):
        self.engine = engine

    # -- subscribers ------------------------------------------------------------------------

    def subscribe(
        self,
        email: str,
        email_key: str,
        period: str,
        categories: Sequence[str],
        max_papers: int,
        user_id: int | None = None,
        notice_interval: timedelta = timedelta(minutes=10),
        now: datetime | None = None,
    ) -> SubscribeResult:
        """Record a subscription request; say which mail (if any) the address gets.

        - new address: stored *pending*, gets a confirmation link;
        - pending: the confirmation link again (at most once per ``notice_interval``);
        - active: an "already subscribed" notice with the preferences link (same rate limit),
          its preferences untouched (a stranger must not change them);
        - unsubscribed or suspended: back to *pending* with the requested preferences, and a
          confirmation link.
        """
        now = now or utcnow()
        ms = mail_subscribers
        with self.engine.begin() as conn:
            stmt = _insert(conn, ms).values(
                email=email,
                email_key=email_key,
                status="pending",
                period=period,
                categories=list(categories),
                max_papers=max_papers,
                user_id=user_id,
                token_nonce=secrets.token_hex(8),
                created_at=now,
                notice_sent_at=now,
                bounce_count=0,
            ).on_conflict_do_nothing(index_elements=["email_key"]).returning(ms.c.id)
            inserted = conn.execute(stmt).first() is not None
            row = conn.execute(
                select(ms).where(ms.c.email_key == email_key).with_for_update()
            ).mappings().one()
            recent = row["notice_sent_at"] is not None and now - row["notice_sent_at"] < notice_interval
            values: dict = {}
            mail: Literal["confirm", "notice"] | None
            if inserted:
                mail = "confirm"
            elif row["status"] in ("unsubscribed", "suspended"):
                values = dict(status="pending", period=period, categories=list(categories),
                              max_papers=max_papers, bounce_count=0, last_error=None,
                              unsubscribed_at=None, suspended_at=None)
                mail = None if recent else "confirm"
            elif row["status"] == "pending":
                mail = None if recent else "confirm"
            else:
                mail = None if recent else "notice"
            if user_id is not None and row["user_id"] is None and row["status"] != "active":
                values["user_id"] = user_id
            if mail is not None:
                values["notice_sent_at"] = now
            # The same UPDATE runs whatever the state (possibly a no-op), so known and unknown
            # addresses cost the same.
            conn.execute(update(ms).where(ms.c.id == row["id"]).values(
                notice_sent_at=values.pop("notice_sent_at", row["notice_sent_at"]), **values))
            row = conn.execute(select(ms).where(ms.c.id == row["id"])).mappings().one()
            return SubscribeResult(_subscriber(row), mail)

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(mail_subscribers).where(mail_subscribers.c.id == subscriber_id)
            ).mappings().first()
        return _subscriber(row) if row else None

    def get_by_email_key(self, email_key: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(mail_subscribers).where(mail_subscribers.c.email_key == email_key)
            ).mappings().first()
        return _subscriber(row) if row else None

    def _set_status(self, subscriber_id: int, nonce: str, where_status: Iterable[str] | None,
                    **values) -> Subscriber | None:
        ms = mail_subscribers
        with self.engine.begin() as conn:
            cond = [ms.c.id == subscriber_id, ms.c.token_nonce == nonce]
            if where_status is not None:
                cond.append(ms.c.status.in_(list(where_status)))
            conn.execute(update(ms).where(*cond).values(**values))
            row = conn.execute(
                select(ms).where(ms.c.id == subscriber_id, ms.c.token_nonce == nonce)
            ).mappings().first()
        return _subscriber(row) if row else None

    def confirm(self, subscriber_id: int, nonce: str, now: datetime | None = None) -> Subscriber | None:
        """Pending -> active. Idempotent; an unsubscribed address is not revived by an old link."""
        return self._set_status(subscriber_id, nonce, ("pending",), status="active",
                                confirmed_at=now or utcnow())

    def unsubscribe(self, subscriber_id: int, nonce: str, now: datetime | None = None) -> Subscriber | None:
        """Any state -> unsubscribed (idempotent). None when the id/nonce pair is unknown."""
        return self._set_status(subscriber_id, nonce, ("pending", "active", "suspended"),
                                status="unsubscribed", unsubscribed_at=now or utcnow())

    def update_preferences(self, subscriber_id: int, nonce: str, period: str,
                           categories: Sequence[str], max_papers: int) -> Subscriber | None:
        return self._set_status(subscriber_id, nonce, None, period=period,
                                categories=list(categories), max_papers=max_papers)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(
                select(mail_subscribers.c.status, func.count()).group_by(mail_subscribers.c.status)
            ).all())

    # -- saved searches ---------------------------------------------------------------------

    def add_saved_search(self, subscriber_id: int, query: str, query_key: str,
                         now: datetime | None = None) -> SavedSearch:
        """Add (or re-activate) an alert; its high-water mark starts now (only new papers)."""
        now = now or utcnow()
        ss = mail_saved_searches
        with self.engine.begin() as conn:
            stmt = _insert(conn, ss).values(
                subscriber_id=subscriber_id, query=query, query_key=query_key, active=True,
                high_water=now, created_at=now,
            ).on_conflict_do_nothing(index_elements=["subscriber_id", "query_key"]).returning(ss.c.id)
            if conn.execute(stmt).first() is None:
                conn.execute(
                    update(ss)
                    .where(ss.c.subscriber_id == subscriber_id, ss.c.query_key == query_key,
                           ss.c.active.is_(False))
                    .values(active=True, high_water=now, query=query, stopped_at=None)
                )
            row = conn.execute(
                select(ss).where(ss.c.subscriber_id == subscriber_id, ss.c.query_key == query_key)
            ).mappings().one()
        return _saved(row)

    def stop_saved_search(self, subscriber_id: int, saved_search_id: int,
                          now: datetime | None = None) -> SavedSearch | None:
        """Deactivate one alert of this subscriber (idempotent); None if it is not theirs."""
        ss = mail_saved_searches
        with self.engine.begin() as conn:
            conn.execute(
                update(ss)
                .where(ss.c.id == saved_search_id, ss.c.subscriber_id == subscriber_id,
                       ss.c.active.is_(True))
                .values(active=False, stopped_at=now or utcnow())
            )
            row = conn.execute(
                select(ss).where(ss.c.id == saved_search_id, ss.c.subscriber_id == subscriber_id)
            ).mappings().first()
        return _saved(row) if row else None

    def get_saved_search(self, saved_search_id: int) -> SavedSearch | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(mail_saved_searches).where(mail_saved_searches.c.id == saved_search_id)
            ).mappings().first()
        return _saved(row) if row else None

    def saved_searches(self, subscriber_id: int, active_only: bool = True) -> list[SavedSearch]:
        return self.saved_searches_for([subscriber_id], active_only).get(subscriber_id, [])

    def saved_searches_for(self, subscriber_ids: Sequence[int],
                           active_only: bool = True) -> dict[int, list[SavedSearch]]:
        ss = mail_saved_searches
        out: dict[int, list[SavedSearch]] = {}
        if not subscriber_ids:
            return out
        with self.engine.connect() as conn:
            for start in range(0, len(subscriber_ids), 900):
                chunk = list(subscriber_ids[start:start + 900])
                q = select(ss).where(ss.c.subscriber_id.in_(chunk)).order_by(ss.c.id)
                if active_only:
                    q = q.where(ss.c.active.is_(True))
                for row in conn.execute(q).mappings():
                    out.setdefault(row["subscriber_id"], []).append(_saved(row))
        return out

    # -- digests ----------------------------------------------------------------------------

    def due_subscribers(self, period: str, period_key: str, after_id: int = 0,
                        limit: int = 500) -> list[Subscriber]:
        """Active subscribers of ``period`` without a finished delivery for ``period_key``."""
        ms, md = mail_subscribers, mail_deliveries
        done = (
            select(md.c.id)
            .where(md.c.subscriber_id == ms.c.id, md.c.period_key == period_key,
                   md.c.status.in_(FINAL_DELIVERY_STATES))
            .exists()
        )
        q = (
            select(ms)
            .where(ms.c.status == "active", ms.c.period == period, ms.c.id > after_id, ~done)
            .order_by(ms.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_subscriber(r) for r in conn.execute(q).mappings()]

    def claim(self, subscriber_id: int, period_key: str, job_id: str, message_id: str,
              status: str = "sending", now: datetime | None = None,
              note: str | None = None) -> ClaimedDelivery | None:
        """Take the delivery of this period for this subscriber, committed before sending.

        Inserts the unique row; if it exists, takes it over only when it is *deferred* (a
        temporary failure), with a compare-and-set on the status. None: someone else has it.
        ``note`` goes to the row's ``error`` column: why a *skipped* digest was not sent.
        """
        now = now or utcnow()
        md = mail_deliveries
        with self.engine.begin() as conn:
            stmt = _insert(conn, md).values(
                subscriber_id=subscriber_id, period_key=period_key, status=status, job_id=job_id,
                message_id=message_id, attempts=1, papers=0, claimed_at=now, error=note,
            ).on_conflict_do_nothing(index_elements=["subscriber_id", "period_key"]).returning(md.c.id)
            if conn.execute(stmt).first() is not None:
                return ClaimedDelivery(subscriber_id, period_key, job_id, message_id, 1)
            taken = conn.execute(
                update(md)
                .where(md.c.subscriber_id == subscriber_id, md.c.period_key == period_key,
                       md.c.status == "deferred")
                .values(status=status, job_id=job_id, message_id=message_id,
                        attempts=md.c.attempts + 1, claimed_at=now, finished_at=None, error=note)
            ).rowcount
            if taken != 1:
                return None
            attempts = conn.execute(
                select(md.c.attempts).where(md.c.subscriber_id == subscriber_id,
                                            md.c.period_key == period_key)
            ).scalar_one()
        return ClaimedDelivery(subscriber_id, period_key, job_id, message_id, attempts)

    def _finish(self, conn: Connection, claim: ClaimedDelivery, status: str, now: datetime,
                **values) -> None:
        md = mail_deliveries
        conn.execute(
            update(md)
            .where(md.c.subscriber_id == claim.subscriber_id, md.c.period_key == claim.period_key,
                   md.c.job_id == claim.job_id)
            .values(status=status, finished_at=now, **values)
        )

    def mark_sent(self, claim: ClaimedDelivery, papers_count: int,
                  high_waters: Mapping[int, datetime], now: datetime | None = None) -> None:
        """Record a sent digest and move the alerts' high-water marks, in one transaction."""
        now = now or utcnow()
        ss = mail_saved_searches
        with self.engine.begin() as conn:
            self._finish(conn, claim, "sent", now, papers=papers_count)
            for ss_id, mark in high_waters.items():
                conn.execute(
                    update(ss).where(ss.c.id == ss_id, ss.c.subscriber_id == claim.subscriber_id,
                                     ss.c.high_water < mark).values(high_water=mark)
                )
            conn.execute(
                update(mail_subscribers)
                .where(mail_subscribers.c.id == claim.subscriber_id,
                       mail_subscribers.c.bounce_count != 0)
                .values(bounce_count=0, last_error=None)
            )

    def mark_deferred(self, claim: ClaimedDelivery, error: str, now: datetime | None = None) -> None:
        """A temporary failure that outlived the retries: a later run may try again."""
        with self.engine.begin() as conn:
            self._finish(conn, claim, "deferred", now or utcnow(), error=error[:2000])

    def mark_bounced(self, claim: ClaimedDelivery, error: str, bounce_limit: int,
                     now: datetime | None = None) -> bool:
        """A permanent failure: recorded; the address is suspended after ``bounce_limit`` in a row.

        Returns True when this bounce suspended the address.
        """
        now = now or utcnow()
        ms = mail_subscribers
        with self.engine.begin() as conn:
            self._finish(conn, claim, "bounced", now, error=error[:2000])
            conn.execute(
                update(ms).where(ms.c.id == claim.subscriber_id)
                .values(bounce_count=ms.c.bounce_count + 1, last_error=error[:2000])
            )
            suspended = conn.execute(
                update(ms)
                .where(ms.c.id == claim.subscriber_id, ms.c.bounce_count >= bounce_limit,
                       ms.c.status == "active")
                .values(status="suspended", suspended_at=now)
            ).rowcount
        return suspended == 1

    def record_bounce(self, subscriber_id: int, error: str, bounce_limit: int,
                      now: datetime | None = None) -> bool:
        """A permanent failure of a non-digest mail (e.g. an alert notice)."""
        now = now or utcnow()
        ms = mail_subscribers
        with self.engine.begin() as conn:
            conn.execute(update(ms).where(ms.c.id == subscriber_id)
                         .values(bounce_count=ms.c.bounce_count + 1, last_error=error[:2000]))
            return conn.execute(
                update(ms).where(ms.c.id == subscriber_id, ms.c.bounce_count >= bounce_limit,
                                 ms.c.status == "active")
                .values(status="suspended", suspended_at=now)
            ).rowcount == 1

    def delivery_counts(self, period_key: str) -> DeliveryCounts:
        md = mail_deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(md.c.status, func.count()).where(md.c.period_key == period_key)
                .group_by(md.c.status)
            ).all()
        return DeliveryCounts(dict(rows))

    def skip_reasons(self, period_key: str) -> list[tuple[str, int]]:
        """Why this period's skipped digests were not sent, most frequent first."""
        md = mail_deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(md.c.error, func.count()).where(md.c.period_key == period_key,
                                                       md.c.status == "skipped")
                .group_by(md.c.error).order_by(func.count().desc(), md.c.error)
            ).all()
        return [(reason or "nothing to send", n) for reason, n in rows]

    def deliveries(self, period_key: str | None = None, subscriber_id: int | None = None) -> list[dict]:
        md = mail_deliveries
        q = select(md).order_by(md.c.id)
        if period_key is not None:
            q = q.where(md.c.period_key == period_key)
        if subscriber_id is not None:
            q = q.where(md.c.subscriber_id == subscriber_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def stale_sending(self, older_than: datetime) -> list[dict]:
        """Deliveries left *sending* by a job that died between claim and record (ambiguous)."""
        md = mail_deliveries
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                select(md).where(md.c.status == "sending", md.c.claimed_at < older_than)
                .order_by(md.c.id)
            ).mappings()]

    # -- papers, as the digest needs them ---------------------------------------------------

    def first_stored(self, ids: Sequence[str]) -> dict[str, datetime]:
        """When this store first saw each paper (``papers.created_at``); hidden papers left out."""
        out: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = list(ids[start:start + 900])
                out.update(conn.execute(
                    select(papers.c.id, papers.c.created_at)
                    .where(and_(papers.c.id.in_(chunk), papers.c.hidden.is_(False)))
                ).all())
        return out
