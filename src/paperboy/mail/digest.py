"""The digest job: compose and send each due subscriber's digest exactly once per period.

When it runs: ``paperboy digest send --period daily|weekly`` from cron, or the scheduler inside
``paperboy serve``/``paperboy worker`` (from ``digest_hour`` local time, see :func:`scheduled_run`).
Running it again, or twice at once, is safe: it only sends what nobody has sent yet.

Exactly once, and the one case where it cannot be
-------------------------------------------------
Each (subscriber, period) has one row in ``mail_deliveries``, unique on
``(subscriber_id, period_key)``. For every subscriber the job

1. composes the digest (reads only);
2. **claims** it: inserts the row as ``sending`` and commits. The unique key lets exactly one job
   win; a second job (or a re-run) sees the row and skips the subscriber;
3. hands the message to SMTP (or the outbox);
4. **records** the outcome and commits: ``sent`` (and the alerts' high-water marks move), or
   ``bounced`` (5xx, counts towards suspension), or ``deferred`` (temporary failure after the
   retries: the next run claims it again with a compare-and-set).

A crash before step 2 leaves no trace: the re-run sends that digest. A crash after step 4 is
harmless. A crash between 2 and 4 (the SMTP exchange itself) is the one ambiguous case: the
server may or may not have accepted the message, and nothing the job can ask tells it which.
Paperboy chooses **at most once** there: the row stays ``sending``, re-runs do not resend it
(a digest is not worth a duplicate), and ``paperboy digest status`` lists such rows so an operator
can see them. The window is one SMTP transaction per subscriber: everything that can fail
earlier (composition, rendering) happens before the claim. Sending over ``smtp_connections``
parallel connections means at most that many digests can be in the window when a job dies.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from paperboy.mail.compose import Digest, DigestComposer, PersonalPicks
from paperboy.mail.delivery import Mailer, MailConfigError, PermanentFailure, TemporaryFailure, make_mailer
from paperboy.mail.render import MessageBuilder
from paperboy.mail.tokens import MailTokens
from paperboy.secret_key import load_secret_key
from paperboy.settings import WEEKDAYS, Settings
from paperboy.storage import Store
from paperboy.storage.papers import utcnow

log = logging.getLogger(__name__)



def local_today(settings: Settings, now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def period_key(period: str, today: date) -> str:
    """``daily:2026-11-24`` or ``weekly:2026-W48`` (ISO week of the local day)."""
    if period == "weekly":
        y, w, _ = today.isocalendar()
        return f"weekly:{y}-W{w:02d}"
    return f"daily:{today.isoformat()}"


@dataclass
class DigestReport:
    period: str
    period_key: str
    dry_run: bool = False
    composed: int = 0
    sent: int = 0
    empty: int = 0
    taken: int = 0  # claimed by another job (or already done) between composing and claiming
    bounced: int = 0
    suspended: int = 0
    deferred: int = 0
    searches_run: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        n = self.composed - self.empty if self.dry_run else self.sent
        parts = [f"{self.period_key}: {verb} {n}"]
        for label, value in (("empty (not sent)", self.empty), ("taken by another job", self.taken),
                             ("bounced", self.bounced), ("suspended", self.suspended),
                             ("deferred for a later run", self.deferred)):
            if value:
                parts.append(f"{label} {value}")
        parts.append(f"searches run {self.searches_run}")
        return ", ".join(parts)


class DigestJob:
    """One run for one period. ``hooks`` exist for tests that inject crashes at given points."""

    def __init__(self, settings: Settings, store: Store, searcher, period: str,
                 mailer: Mailer | None = None, secret_key: str | None = None,
                 now: datetime | None = None, job_id: str | None = None,
                 batch_size: int = 500, group_searches: bool = True,
                 hooks: dict[str, Callable[[Digest], None]] | None = None,
                 personal: PersonalPicks | None = None):
        if period not in ("daily", "weekly"):
            raise ValueError(f"period must be daily or weekly, not {period!r}")
        self.settings = settings
        self.store = store
        self.period = period
        self.today = local_today(settings, now)
        self.period_key = period_key(period, self.today)
        self.job_id = job_id or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.batch_size = batch_size
        self.tokens = MailTokens(secret_key or load_secret_key(settings.data_dir),
                                 settings.mail_confirm_hours * 3600)
        self.builder = MessageBuilder(settings, self.tokens)
        self._mailer = mailer
        self.hooks = hooks or {}
        self._lock = threading.Lock()
        # Papers stored after this moment wait for the next digest (ingest may run meanwhile).
        self.cutoff = utcnow()
        self.composer = DigestComposer(store, searcher, period, self.period_key, self.today,
                                       self.cutoff, group_searches=group_searches,
                                       personal=personal)

    def _hook(self, name: str, digest: Digest) -> None:
        fn = self.hooks.get(name)
        if fn is not None:
            fn(digest)

    def digests(self):
        """Every due subscriber's digest, batch by batch (reads only)."""
        repo = self.store.subscriptions
        after = 0
        while True:
            batch = repo.due_subscribers(self.period, self.period_key, after, self.batch_size)
            if not batch:
                return
            after = batch[-1].id
            yield from self.composer.compose(batch)

    def run(self, dry_run: bool = False) -> DigestReport:
        """Compose in this thread; claim, send and record over ``smtp_connections`` connections
        (each thread keeps its own SMTP session). Any crash stops the run after the digests in
        flight; a re-run sends the rest."""
        report = DigestReport(self.period, self.period_key, dry_run=dry_run)
        workers = 1 if self._mailer is not None else max(1, self.settings.smtp_connections)
        local = threading.local()
        opened: list[Mailer] = []

        def mailer() -> Mailer:
            m = getattr(local, "mailer", None)
            if m is None:
                m = self._mailer or make_mailer(self.settings)
                local.mailer = m
                with self._lock:
                    opened.append(m)
            return m

        pool = ThreadPoolExecutor(workers, thread_name_prefix="digest") if workers > 1 else None
        in_flight: deque[Future] = deque()
        try:
            for digest in self.digests():
                report.composed += 1
                if digest.is_empty:
                    report.empty += 1
                    if not dry_run:
                        self._skip(digest)
                    continue
                if dry_run:
                    continue
                if pool is None:
                    self._deliver(digest, mailer(), report)
                    continue
                in_flight.append(pool.submit(lambda d=digest: self._deliver(d, mailer(), report)))
                while len(in_flight) > workers * 4:  # bounded: compose stays a little ahead
                    in_flight.popleft().result()
            while in_flight:
                in_flight.popleft().result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            report.searches_run = self.composer.stats.searches_run
            if self._mailer is None:
                for m in opened:
                    m.close()
        return report

    def _count(self, report: DigestReport, name: str) -> None:
        with self._lock:
            setattr(report, name, getattr(report, name) + 1)

    def _skip(self, digest: Digest) -> None:
        """Nothing to send: mark the period done so a later run does not compose it again,
        with the reason ``digest status`` shows."""
        self.store.subscriptions.claim(digest.subscriber.id, self.period_key, self.job_id,
                                       "", status="skipped",
                                       note=self.composer.empty_reason(digest))

    def _deliver(self, digest: Digest, mailer: Mailer, report: DigestReport) -> None:
        repo = self.store.subscriptions
        sub = digest.subscriber
        message_id = self.builder.new_message_id("digest")
        msg = self.builder.digest(digest, message_id)  # render before claiming: fail early
        self._hook("before_claim", digest)
        claim = repo.claim(sub.id, self.period_key, self.job_id, message_id)
        if claim is None:
            self._count(report, "taken")
            return
        self._hook("after_claim", digest)
        try:
            mailer.send(msg)
        except PermanentFailure as exc:
            self._count(report, "bounced")
            if repo.mark_bounced(claim, str(exc), self.settings.mail_bounce_limit):
                self._count(report, "suspended")
            log.warning("digest to %s bounced: %s", sub.email, exc)
            return
        except TemporaryFailure as exc:
            self._count(report, "deferred")
            repo.mark_deferred(claim, str(exc))
            log.warning("digest to %s deferred: %s", sub.email, exc)
            return
        except MailConfigError as exc:
            repo.mark_deferred(claim, str(exc))
            raise
        self._hook("after_send", digest)
        repo.mark_sent(claim, digest.paper_count, digest.high_waters)
        self._count(report, "sent")


def send_digests(settings: Settings, store: Store, searcher, period: str, *,
                 dry_run: bool = False, **kwargs) -> DigestReport:
    return DigestJob(settings, store, searcher, period, **kwargs).run(dry_run=dry_run)


def scheduled_run(settings: Settings, store: Store, searcher,
                  now: datetime | None = None,
                  personal: PersonalPicks | None = None) -> list[DigestReport]:
    """The scheduler's digest job: from ``digest_hour`` local time, send what is due today.

    Called every few minutes; cheap when everything is sent (one query per period), and safe
    to run in several processes at once (the delivery rows decide).
    """
    if settings.digest_hour < 0:
        return []
    now = now or datetime.now(timezone.utc)
    local = (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(
        ZoneInfo(settings.timezone))
    if local.hour < settings.digest_hour:
        return []
    periods = ["daily"]
    if WEEKDAYS.index(settings.digest_weekday) == local.weekday():
        periods.append("weekly")
    reports = []
    for period in periods:
        key = period_key(period, local.date())
        if not store.subscriptions.due_subscribers(period, key, limit=1):
            continue
        reports.append(send_digests(settings, store, searcher, period, now=now,
                                    personal=personal))
    return reports


def digest_job_interval(settings: Settings) -> float:
    """Seconds between scheduler checks (0 disables the job)."""
    return 0.0 if settings.digest_hour < 0 else 300.0


def scheduler_job(settings: Settings, store: Store, searcher,
                  personal: PersonalPicks | None = None) -> object:
    """Entry point for :data:`paperboy.jobs.scheduler.JOBS`."""
    return scheduled_run(settings, store, searcher, personal=personal)


def stale_deliveries(store: Store, older_than: timedelta = timedelta(minutes=30)) -> list[dict]:
    return store.subscriptions.stale_sending(utcnow() - older_than)
