"""Feed queries: what appeared on a day / week / month, by author, by organization, trending.

A paper belongs to the day a daily listing put it on (``daily_listings.listed_on``); papers that
were never listed (e.g. bulk arXiv imports) fall back to the day of their first version
(``papers.published``, UTC boundaries shifted to the configured time zone). Hidden papers never
show up in a feed.

``trending`` is deliberately one small function (:func:`trending_score` + :meth:`FeedRepository.trending`):
the community area replaces its internals with the final score over imported and local upvotes
and comments.
"""

from __future__ import annotations

import heapq
import os
import sqlite3
import threading
import time as clock
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    String,
    Integer,
    and_,
    bindparam,
    cast,
    event,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)

from paperboy import trending as formula
from paperboy.records import STORED_FIELDS, Paper
from paperboy.storage.database import LIKE_ESCAPE, like_escape
from paperboy.storage.schema import (
    daily_listings,
    paper_authors,
    paper_categories,
    paper_stats,
    papers,
)

Sort = Literal["trending", "upvotes", "newest"]
SORTS: tuple[str, ...] = ("trending", "upvotes", "newest")


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end) with a kind, e.g. one ISO week."""

    start: date
    end: date
    kind: Literal["day", "week", "month", "range"] = "day"

    @classmethod
    def day(cls, d: date) -> "Period":
        return cls(d, d + timedelta(days=1), "day")

    @classmethod
    def week_of(cls, d: date) -> "Period":
        start = d - timedelta(days=d.weekday())
        return cls(start, start + timedelta(days=7), "week")

    @classmethod
    def month_of(cls, d: date) -> "Period":
        start = d.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return cls(start, end, "month")

    def containing(self, d: date) -> "Period":
        """The period of the same kind that contains ``d``."""
        if self.kind == "week":
            return Period.week_of(d)
        if self.kind == "month":
            return Period.month_of(d)
        return Period.day(d)

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "day":
            return self.start.isoformat()
        return f"{self.start.isoformat()}..{self.last.isoformat()}"


@dataclass
class FeedItem:
    """A paper as a feed shows it: the paper plus its listing facts (day, votes, who submitted)."""

    paper: Paper
    day: date | None = None
    upvotes: int = 0
    comments: int = 0
    submitter: str | None = None
    organization: str | None = None
    listed_at: datetime | None = None
    submitter_fullname: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.paper.id

    @property
    def moment(self) -> datetime | None:
        """When the paper entered the feed: the time we first saw its listing if that was on
        its listing day, else the start of that day, else its first-version time (UTC)."""
        if self.day is not None:
            if self.listed_at is not None and self.listed_at.date() == self.day:
                return self.listed_at
            return datetime.combine(self.day, time())
        return self.paper.published


@dataclass
class FeedPage:
    items: list[FeedItem]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def trending_score(upvotes: int, comments: int, age_hours: float) -> float:
    """Gravity-style score (Hacker News like): points over age; the formula and its constants
    live in :mod:`paperboy.trending` (upvotes and comments: imported + local)."""
    pts = formula.points(max(upvotes, 0), 0, max(comments, 0), 0)
    return formula.score(pts, max(age_hours, 0.0))


#: Paper columns a FeedItem needs (no provenance or bookkeeping), datetimes raw (see _hydrate).
_PAPER_COLUMNS = STORED_FIELDS
_RAW_TIMES = ("published", "updated")
_PAPERS_WITH_STATS = (
    select(
        *(type_coerce(papers.c[name], String) if name in _RAW_TIMES else papers.c[name]
          for name in _PAPER_COLUMNS),
        paper_stats.c.local_upvotes,
        paper_stats.c.local_comments,
    )
    .select_from(papers.outerjoin(paper_stats, paper_stats.c.paper_id == papers.c.id))
    .where(papers.c.id.in_(bindparam("ids", expanding=True)))
)
_LISTINGS_OF = (
    select(
        daily_listings.c.paper_id,
        type_coerce(daily_listings.c.listed_on, String),
        daily_listings.c.upvotes,
        daily_listings.c.comments,
        daily_listings.c.submitter,
        daily_listings.c.organization,
        # when the source listed it, else when we first saw the listing
        type_coerce(func.coalesce(daily_listings.c.listed_at, daily_listings.c.first_seen_at),
                    String),
        daily_listings.c.submitter_fullname,
    )
    .where(daily_listings.c.paper_id.in_(bindparam("ids", expanding=True)))
    .order_by(daily_listings.c.listed_on.asc())
)
_NO_FACTS = {"upvotes": 0, "comments": 0, "submitter": None, "organization": None, "day": None,
             "listed_at": None, "fullname": None}


def _period_rows_statement(by_submitter: bool, with_code: bool = False):
    """The feed of a period as one narrow statement, built once (bind parameters: ``start``,
    ``end``: the days [start, end); ``lo``, ``hi``: the same as naive UTC datetimes; and
    ``submitter`` when ``by_submitter``; ``with_code``: only papers with a code link). Rows:
    (pid, day, upvotes, ncomments, published, local_upvotes, local_comments, listed_at) of the
    visible papers.

    Two branches, each reading the paper row once (published, hidden) and its local counters:
    papers listed in the period, and papers never listed whose first version falls in it. Day
    and published come back raw (ISO text on SQLite) and are parsed with fromisoformat:
    SQLAlchemy's SQLite date processors are much slower (benchmarks/RESULTS.md, "Issue 17").
    """
    dl, ps = daily_listings, paper_stats
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    listed = (
        select(
            dl.c.paper_id.label("pid"),
            type_coerce(func.max(dl.c.listed_on), String).label("day"),
            func.max(dl.c.upvotes).label("upvotes"),
            func.max(dl.c.comments).label("ncomments"),
            type_coerce(func.max(papers.c.published), String).label("published"),
            func.max(ps.c.local_upvotes).label("local_upvotes"),
            func.max(ps.c.local_comments).label("local_comments"),
            type_coerce(func.max(func.coalesce(dl.c.listed_at, dl.c.first_seen_at)),
                        String).label("listed_at"),
        )
        .select_from(
            dl.join(papers, papers.c.id == dl.c.paper_id)
            .outerjoin(ps, ps.c.paper_id == dl.c.paper_id)
        )
        .where(dl.c.listed_on >= start, dl.c.listed_on < end, papers.c.hidden == false())
        .group_by(dl.c.paper_id)
    )
    if with_code:
        listed = listed.where(papers.c.code_url.is_not(None))
    if by_submitter:
        # never-listed papers have no submitter: only the listed branch can match
        by = dl.alias("by_submitter")
        return listed.where(exists().where(by.c.paper_id == dl.c.paper_id,
                                           by.c.submitter == bindparam("submitter")))
    unlisted = (
        select(
            papers.c.id,
            literal(None, Date),
            literal(None, Integer),
            literal(None, Integer),
            type_coerce(papers.c.published, String),
            ps.c.local_upvotes,
            ps.c.local_comments,
            type_coerce(cast(null(), DateTime), String),
        )
        .select_from(papers.outerjoin(ps, ps.c.paper_id == papers.c.id))
        .where(
            papers.c.published >= bindparam("lo", type_=DateTime),
            papers.c.published < bindparam("hi", type_=DateTime),
            papers.c.published_approx == false(),  # only a month: on no day's feed
            papers.c.hidden == false(),
            ~exists().where(dl.c.paper_id == papers.c.id),
        )
    )
    if with_code:
        unlisted = unlisted.where(papers.c.code_url.is_not(None))
    return union_all(listed, unlisted)


#: (by submitter, with code) -> statement
_PERIOD_ROWS = {(by, code): _period_rows_statement(by, code)
                for by in (False, True) for code in (False, True)}


class _ChangeMarker:
    """A number that changes whenever anyone commits to the database: SQLite's
    ``PRAGMA data_version`` on a connection of our own that never writes (it counts the commits
    of every other connection, in this process or another). ``None`` where there is no such
    marker (PostgreSQL, in-memory SQLite): callers then never cache.

    The value is ``(generation, data_version)``: a reopened connection starts a new count.
    """

    def __init__(self, engine):
        url = engine.url
        path = url.database if url.get_backend_name() == "sqlite" else None
        if not path or path == ":memory:" or path.startswith("file:") or url.query:
            path = None
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._generation = 0
        self._lock = threading.Lock()
        if path is not None:
            event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def version(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        with self._lock:
            try:
                if self._conn is None:
                    if not os.path.exists(self.path):
                        return None
                    self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                                 check_same_thread=False)
                    self._generation += 1
                return (self._generation, self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self._close()
                return None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class FeedRepository:
    """Read-only feed queries over papers and daily listings.

    On SQLite the expensive parts of a feed page that depend on the data only (the order of a
    past period, the previous/next days, the latest day) are kept per process until anyone
    commits anything (:class:`_ChangeMarker`); the cards shown are read fresh every time.
    An order of a crowded period (at least ``CROWDED_ROWS`` papers) that took over
    ``SLOW_ORDER_S`` to compute outlives commits for ``REUSE_S``: an import commits every few seconds, mostly papers of other days, and
    recomputing such an order on every request after each commit stalled the pages. While one
    request recomputes it, the others keep serving the previous order.
    """

    #: entries kept, and the rows of a period's order kept in one (deeper pages: no cache)
    CACHE_SIZE = 128
    CACHE_ROWS = 1200
    #: seconds: what makes an order slow, and how long a slow one is served across commits
    SLOW_ORDER_S = 0.05
    REUSE_S = 10.0
    #: papers in a period below which an order is never served across commits, however long it
    #: took (a small period is cheap to redo; time alone made a busy machine's pages stale)
    CROWDED_ROWS = 2000

    def __init__(self, engine, tz: str):
        self.engine = engine
        self.tz = tz
        self._changes = _ChangeMarker(engine)
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- cache -------------------------------------------------------------------------------

    def _cache_get(self, key, version):
        """The value kept for ``key`` if nothing was committed since, or if it is a slow order
        still within its reuse time (see the class docstring)."""
        if version is None:
            return None
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            if hit[0] != version:
                now, slow = clock.monotonic(), hit[2]
                if slow is None:
                    return None
                reuse_until, cost = slow
                if now >= reuse_until:  # this request recomputes; the others keep the old one
                    self._cache[key] = (hit[0], hit[1], (now + 2 * cost + 1, cost))
                    return None
            self._cache.move_to_end(key)
            return hit[1]

    def _cache_put(self, key, version, value, cost: float | None = None, rows: int = 0) -> None:
        """Keep ``value``; ``cost``: the seconds an order took (a slow one outlives commits)."""
        if version is None:
            return
        slow = None
        if cost is not None and cost >= self.SLOW_ORDER_S and rows >= self.CROWDED_ROWS:
            slow = (clock.monotonic() + self.REUSE_S, cost)
        with self._cache_lock:
            self._cache[key] = (version, value, slow)
            self._cache.move_to_end(key)
            while len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)

    # -- helpers -----------------------------------------------------------------------------

    def _utc_bounds(self, start: date, end: date) -> tuple[datetime, datetime]:
        """Naive UTC datetimes of local midnight at ``start`` and ``end``."""
        zone = ZoneInfo(self.tz)
        lo = datetime.combine(start, time(), zone).astimezone(timezone.utc).replace(tzinfo=None)
        hi = datetime.combine(end, time(), zone).astimezone(timezone.utc).replace(tzinfo=None)
        return lo, hi

    def _local_day(self, moment: datetime | None) -> date | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.tz)).date()

    def _candidates(self, start: date, end: date):
        """Subquery of (pid, day, upvotes, ncomments) for papers in [start, end)."""
        dl = daily_listings
        listed = (
            select(
                dl.c.paper_id.label("pid"),
                func.max(dl.c.listed_on).label("day"),
                func.max(dl.c.upvotes).label("upvotes"),
                func.max(dl.c.comments).label("ncomments"),
            )
            .where(dl.c.listed_on >= start, dl.c.listed_on < end)
            .group_by(dl.c.paper_id)
        )
        lo, hi = self._utc_bounds(start, end)
        unlisted = select(
            papers.c.id.label("pid"),
            literal(None, Date).label("day"),
            literal(None, Integer).label("upvotes"),
            literal(None, Integer).label("ncomments"),
        ).where(
            papers.c.published >= lo,
            papers.c.published < hi,
            papers.c.published_approx == false(),
            ~exists().where(dl.c.paper_id == papers.c.id),
        )
        return union_all(listed, unlisted).subquery("cand")

    def _hydrate(self, conn, rows: Sequence) -> list[FeedItem]:
        """FeedItems for rows of (pid, day, upvotes, ncomments), keeping their order.

        Two queries: the papers' content columns with their local counters, then their daily
        listings. Date/time columns come back raw and are parsed with fromisoformat (see
        :func:`_period_rows_statement`)."""
        ids = [r[0] for r in rows]
        if not ids:
            return []
        by_id: dict[str, tuple[Paper, int, int]] = {}
        for r in conn.execute(_PAPERS_WITH_STATS, {"ids": ids}):
            values = dict(zip(_PAPER_COLUMNS, r))
            values["published"] = _as_datetime(values["published"])
            values["updated"] = _as_datetime(values["updated"])
            by_id[values["id"]] = (Paper(**values), r[-2] or 0, r[-1] or 0)
        facts: dict[str, dict] = {}
        for pid, listed_on, up, nc, submitter, org, first_seen, fullname in conn.execute(
            _LISTINGS_OF, {"ids": ids}
        ):
            f = facts.get(pid)
            if f is None:  # the earliest listing gives the day and when it was listed
                f = facts[pid] = {"upvotes": 0, "comments": 0, "submitter": None,
                                  "organization": None, "day": _as_date(listed_on),
                                  "listed_at": _as_datetime(first_seen), "fullname": None}
            f["upvotes"] = max(f["upvotes"], up or 0)
            f["comments"] = max(f["comments"], nc or 0)
            if submitter:
                f["submitter"], f["fullname"] = submitter, fullname
            f["organization"] = org or f["organization"]
        items = []
        for pid, day, _up, _nc in rows:
            found = by_id.get(pid)
            if found is None:
                continue
            paper, local_up, local_nc = found
            f = facts.get(pid, _NO_FACTS)
            items.append(
                FeedItem(
                    paper=paper,
                    day=day or f["day"] or (None if paper.published_approx
                                            else self._local_day(paper.published)),
                    # imported (Hugging Face) + local votes and comments; the parts in ``extra``
                    upvotes=f["upvotes"] + local_up,
                    comments=f["comments"] + local_nc,
                    submitter=f["submitter"],
                    submitter_fullname=f["fullname"],
                    organization=f["organization"] or paper.organization,
                    listed_at=f["listed_at"],
                    extra={"upvotes_imported": f["upvotes"], "upvotes_local": local_up,
                           "comments_imported": f["comments"], "comments_local": local_nc},
                )
            )
        return items

    # -- feeds -------------------------------------------------------------------------------

    def listed(
        self,
        period: Period,
        sort: Sort = "trending",
        limit: int = 30,
        offset: int = 0,
        now: datetime | None = None,
        submitter: str | None = None,
        with_code: bool = False,
    ) -> FeedPage:
        """Papers of a period, sorted, one page of them, with the total (``with_code``: only
        papers with a code link)."""
        lo, hi = self._utc_bounds(period.start, period.end)
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        k = offset + limit
        # The order of a period depends on the data only, except for a trending period that has
        # not ended (ages measured at now): that one is never cached.
        cacheable = sort != "trending" or now >= hi
        version = self._changes.version() if cacheable else None
        key = ("listed", period.start, period.end, lo, hi, submitter, sort, with_code)
        hit = self._cache_get(key, version)
        with self.engine.connect() as conn:
            if hit is not None and (k <= len(hit[1]) or len(hit[1]) == hit[0]):
                total, order = hit
            else:
                began = clock.monotonic()
                total, order, keep = self._order(
                    conn, period, lo, hi, sort, now, submitter,
                    k if version is None else max(k, self.CACHE_ROWS), with_code)
                if keep:
                    self._cache_put(key, version, (total, order), clock.monotonic() - began,
                                    rows=total)
            rows = [(r[0], _as_date(r[1]), r[2], r[3]) for r in order[offset:k]]
            items = self._hydrate(conn, rows)
        return FeedPage(items=items, total=total, limit=limit, offset=offset)

    def _order(self, conn, period: Period, lo: datetime, hi: datetime, sort: str,
               now: datetime, submitter: str | None, k: int | None, with_code: bool = False):
        """(total, the best ``k`` rows of the period in order, whether that order may be reused
        while the data stays the same).

        One narrow query for the whole period, sorted here: cheaper than COUNT + ORDER BY (both
        scan the period anyway), and every sort shares the same code path. Rows are (pid, day,
        upvotes, ncomments, published, ...), day and published raw."""
        params = {"start": period.start, "end": period.end, "lo": lo, "hi": hi}
        query = _PERIOD_ROWS[bool(submitter), with_code]
        if submitter:
            params["submitter"] = submitter
        rows = conn.execute(query, params).all()
        total = len(rows)
        keep = True
        if sort == "trending":
            # ties on the score go to the newer paper; a paper without a v1 date counts as
            # published now, so such an order is not reused
            keep = all(r[4] is not None for r in rows)
            order = self._rank_trending(rows, now, period, k)
        elif sort == "upvotes":
            # ties as on Hugging Face: the later listing first, then the newer paper
            order = heapq.nlargest(k, rows, key=lambda r: (
                (r[2] or 0) + (r[5] or 0), _as_datetime(r[7]) or datetime.min,
                _as_datetime(r[4]) or datetime.min, r[0]))
        else:
            order = heapq.nlargest(k, rows, key=lambda r: (_as_datetime(r[4]) or datetime.min, r[0]))
        return total, [tuple(r[:4]) for r in order], keep

    def _rank_trending(self, rows: Sequence, now: datetime | None, period: Period | None = None,
                       k: int | None = None) -> list:
        """Rows (pid, day, up, nc, published, local_up, local_comments) by the trending score of
        :mod:`paperboy.trending`, the best ``k`` of them (all if None); ages are
        measured at the end of the period shown (or now, if sooner), from the start of the
        listing day (or the v1 time if unlisted). Day and published may be ISO text (SQLite)."""
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        reference = formula.reference_time(period.last if period else None, now)
        points, decay, age_hours = formula.points, formula.decay, formula.age_hours
        now_ts = now.timestamp()
        decays: dict = {}  # first-seen moment -> (age + 2) ** GRAVITY: a listing day is shared
        keyed = []
        for i, (pid, day, up, nc, published, lup, lnc, *_) in enumerate(rows):
            published = _as_datetime(published)
            first_seen = _as_date(day) if day is not None else (published or reference)
            d = decays.get(first_seen)
            if d is None:
                d = decays[first_seen] = decay(age_hours(first_seen, reference))
            score = points(up or 0, lup or 0, nc or 0, lnc or 0) / d
            keyed.append((-score, -published.timestamp() if published else -now_ts, pid, i))
        best = heapq.nsmallest(k, keyed) if k is not None and k < len(keyed) else sorted(keyed)
        return [rows[key[3]] for key in best]

    def trending(
        self, days: int = 7, limit: int = 30, offset: int = 0, now: datetime | None = None,
        with_code: bool = False,
    ) -> FeedPage:
        """The trending papers of the last ``days`` days that have papers, best first.

        The window ends at the latest day with papers (so an instance that stopped fetching
        still shows something) and reaches ``days`` back from there.
        """
        latest = self.latest_day()
        if latest is None:
            return FeedPage(items=[], total=0, limit=limit, offset=offset)
        period = Period(latest - timedelta(days=days - 1), latest + timedelta(days=1), "range")
        return self.listed(period, "trending", limit, offset, now=now, with_code=with_code)

    def latest_day(self) -> date | None:
        """The most recent day that has papers (listing day or first-version day)."""
        version = self._changes.version()
        key = ("latest", self.tz)
        hit = self._cache_get(key, version)
        if hit is not None:
            return hit[0]
        latest = self._latest_day()
        self._cache_put(key, version, (latest,))
        return latest

    def _latest_day(self) -> date | None:
        with self.engine.connect() as conn:
            listed, published = conn.execute(select(
                select(func.max(daily_listings.c.listed_on)).scalar_subquery(),
                select(func.max(papers.c.published))
                .where(papers.c.published_approx == false()).scalar_subquery(),
            )).one()
        candidates = [d for d in (_as_date(listed), self._local_day(published)) if d is not None]
        return max(candidates) if candidates else None

    def _prev_next_subqueries(self, before: date, after: date):
        """Scalar subqueries for the closest listing / first-version moments around a span."""
        dl = daily_listings
        lo, _ = self._utc_bounds(before, before)
        _, hi = self._utc_bounds(after, after + timedelta(days=1))
        unlisted = and_(~exists().where(dl.c.paper_id == papers.c.id),
                        papers.c.published_approx == false())
        return (
            select(func.max(dl.c.listed_on)).where(dl.c.listed_on < before).scalar_subquery(),
            select(papers.c.published).where(papers.c.published < lo, unlisted)
            .order_by(papers.c.published.desc()).limit(1).scalar_subquery(),
            select(func.min(dl.c.listed_on)).where(dl.c.listed_on > after).scalar_subquery(),
            select(papers.c.published).where(papers.c.published >= hi, unlisted)
            .order_by(papers.c.published.asc()).limit(1).scalar_subquery(),
        )

    def _prev_next(self, before: date, after: date) -> tuple[date | None, date | None]:
        """(closest day with papers before ``before``, closest after ``after``): one query."""
        version = self._changes.version()
        key = ("prev_next", before, after, self.tz)
        hit = self._cache_get(key, version)
        if hit is None:
            hit = self._prev_next_query(before, after)
            self._cache_put(key, version, hit)
        return hit

    def _prev_next_query(self, before: date, after: date) -> tuple[date | None, date | None]:
        with self.engine.connect() as conn:
            p_listed, p_pub, n_listed, n_pub = conn.execute(
                select(*self._prev_next_subqueries(before, after))
            ).one()
        prev = [d for d in (_as_date(p_listed), self._local_day(p_pub)) if d is not None]
        nxt = [d for d in (_as_date(n_listed), self._local_day(n_pub)) if d is not None]
        return (max(prev) if prev else None, min(nxt) if nxt else None)

    def prev_day(self, before: date) -> date | None:
        """The closest day before ``before`` that has papers."""
        return self._prev_next(before, before)[0]

    def next_day(self, after: date) -> date | None:
        """The closest day after ``after`` that has papers."""
        return self._prev_next(after, after)[1]

    def neighbours(self, period: Period) -> tuple[Period | None, Period | None]:
        """The previous and next period of the same kind that have papers."""
        before, after = self._prev_next(period.start, period.last)
        return (
            period.containing(before) if before else None,
            period.containing(after) if after else None,
        )

    def has_listings(self, period: Period) -> bool:
        """Whether a daily list featured any paper in the period (an index range look-up)."""
        dl = daily_listings
        q = select(exists().where(dl.c.listed_on >= period.start, dl.c.listed_on < period.end))
        with self.engine.connect() as conn:
            return bool(conn.execute(q).scalar())

    def count(self, period: Period) -> int:
        cand = self._candidates(period.start, period.end)
        q = (
            select(func.count())
            .select_from(cand.join(papers, papers.c.id == cand.c.pid))
            .where(papers.c.hidden == false())
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar_one()

    # -- facets ------------------------------------------------------------------------------

    def _page_of_ids(self, conn, id_query, limit: int, offset: int) -> FeedPage:
        sub = id_query.subquery()
        total = conn.execute(select(func.count()).select_from(sub)).scalar_one()
        q = (
            select(papers.c.id, literal(None, Date), literal(None, Integer), literal(None, Integer))
            .where(papers.c.id.in_(select(sub.c.id)), papers.c.hidden == false())
            .order_by(papers.c.published.desc().nulls_last(), papers.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = conn.execute(q).all()
        return FeedPage(items=self._hydrate(conn, rows), total=total, limit=limit, offset=offset)

    def by_author(self, key: str, limit: int = 30, offset: int = 0) -> FeedPage:
        """Papers whose author list has this folded name (``paper_authors.name_key``), newest first."""
        ids = (
            select(paper_authors.c.paper_id.label("id"))
            .where(paper_authors.c.name_key == key)
            .distinct()
        )
        with self.engine.connect() as conn:
            return self._page_of_ids(conn, ids, limit, offset)

    def author_name(self, key: str) -> str | None:
        """How the author is usually written (the most frequent spelling of a folded name)."""
        q = (
            select(paper_authors.c.name, func.count().label("n"))
            .where(paper_authors.c.name_key == key)
            .group_by(paper_authors.c.name)
            .order_by(func.count().desc(), paper_authors.c.name)
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return row[0] if row else None

    def by_organization(self, name: str, limit: int = 30, offset: int = 0) -> FeedPage:
        """Papers of an organization (as on the paper or on one of its listings), newest first."""
        ids = union_all(
            select(papers.c.id.label("id")).where(papers.c.organization == name),
            select(daily_listings.c.paper_id.label("id")).where(
                daily_listings.c.organization == name
            ),
        )
        with self.engine.connect() as conn:
            return self._page_of_ids(conn, select(ids.subquery().c.id).distinct(), limit, offset)

    def by_category(self, category: str, limit: int = 30, offset: int = 0) -> FeedPage:
        ids = select(paper_categories.c.paper_id.label("id")).where(
            paper_categories.c.category == category
        )
        with self.engine.connect() as conn:
            return self._page_of_ids(conn, ids, limit, offset)

    def items_for(self, ids: Sequence[str], include_hidden: bool = False) -> list[FeedItem]:
        """FeedItems (with listing facts) for papers in the given order; unknown papers skipped,
        hidden ones too unless ``include_hidden`` (what administrators see)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        with self.engine.connect() as conn:
            query = select(papers.c.id).where(papers.c.id.in_(ids))
            if not include_hidden:
                query = query.where(papers.c.hidden == false())
            visible = set(conn.execute(query).scalars())
            rows = [(i, None, None, None) for i in ids if i in visible]
            return self._hydrate(conn, rows)

    def title_matches(self, text: str, limit: int = 20, offset: int = 0) -> FeedPage:
        """A plain substring match on titles: the fallback while the search index is not ready."""
        words = [w for w in text.split() if w][:8]
        conds = [papers.c.title.ilike(f"%{like_escape(w)}%", escape=LIKE_ESCAPE) for w in words]
        ids = select(papers.c.id.label("id")).where(and_(*conds) if conds else or_(false()))
        with self.engine.connect() as conn:
            return self._page_of_ids(conn, ids, limit, offset)

    def categories(self, limit: int = 40) -> list[tuple[str, int]]:
        """The most common categories with their paper counts."""
        q = (
            select(paper_categories.c.category, func.count())
            .group_by(paper_categories.c.category)
            .order_by(func.count().desc(), paper_categories.c.category)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(c, n) for c, n in conn.execute(q).all()]


def _as_datetime(value) -> datetime | None:
    """A naive UTC datetime from a driver value (datetime on PostgreSQL, ISO text on SQLite)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _as_date(value) -> date | None:
    """Dates come back as strings from SQLite scalar subqueries and raw selects."""
    if value is None or isinstance(value, datetime):
        return value.date() if value is not None else None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
