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

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    String,
    Integer,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)

from paperboy.records import Paper
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
    live in :mod:`paperboy.community.trending` (upvotes and comments: imported + local)."""
    from paperboy.community import trending as formula

    pts = formula.points(max(upvotes, 0), 0, max(comments, 0), 0)
    return formula.score(pts, max(age_hours, 0.0))


class FeedRepository:
    """Read-only feed queries over papers and daily listings."""

    def __init__(self, engine, tz: str = "UTC"):
        self.engine = engine
        self.tz = tz

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
            ~exists().where(dl.c.paper_id == papers.c.id),
        )
        return union_all(listed, unlisted).subquery("cand")

    def _hydrate(self, conn, rows: Sequence) -> list[FeedItem]:
        """FeedItems for rows of (pid, day, upvotes, ncomments), keeping their order."""
        ids = [r[0] for r in rows]
        if not ids:
            return []
        from paperboy.storage.papers import PaperRepository  # local: avoid a cycle at import

        by_id = {}
        for row in conn.execute(select(papers).where(papers.c.id.in_(ids))).mappings():
            by_id[row["id"]] = PaperRepository._to_paper(row)
        facts: dict[str, dict] = {}
        q = (
            select(daily_listings)
            .where(daily_listings.c.paper_id.in_(ids))
            .order_by(daily_listings.c.listed_on.asc())
        )
        for row in conn.execute(q).mappings():
            f = facts.setdefault(row["paper_id"], {})
            f["upvotes"] = max(f.get("upvotes") or 0, row["upvotes"] or 0)
            f["comments"] = max(f.get("comments") or 0, row["comments"] or 0)
            f["submitter"] = row["submitter"] or f.get("submitter")
            f["organization"] = row["organization"] or f.get("organization")
            f.setdefault("day", row["listed_on"])
            f.setdefault("listed_at", row["first_seen_at"])
        local = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                select(paper_stats.c.paper_id, paper_stats.c.local_upvotes,
                       paper_stats.c.local_comments).where(paper_stats.c.paper_id.in_(ids))
            )
        }
        items = []
        for pid, day, _up, _nc in rows:
            paper = by_id.get(pid)
            if paper is None:
                continue
            f = facts.get(pid, {})
            items.append(
                FeedItem(
                    paper=paper,
                    day=day or f.get("day") or self._local_day(paper.published),
                    # imported (Hugging Face) + local votes and comments; the parts in ``extra``
                    upvotes=f.get("upvotes", 0) + local.get(pid, (0, 0))[0],
                    comments=f.get("comments", 0) + local.get(pid, (0, 0))[1],
                    submitter=f.get("submitter"),
                    organization=f.get("organization") or paper.organization,
                    listed_at=f.get("listed_at"),
                    extra={"upvotes_imported": f.get("upvotes", 0),
                           "upvotes_local": local.get(pid, (0, 0))[0],
                           "comments_imported": f.get("comments", 0),
                           "comments_local": local.get(pid, (0, 0))[1]},
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
    ) -> FeedPage:
        """Papers of a period, sorted, one page of them, with the total."""
        cand = self._candidates(period.start, period.end)
        base = (
            # day and published come back raw (ISO text on SQLite) and are parsed below with
            # fromisoformat: SQLAlchemy's SQLite date processors cost ~10 ms per 1,000 rows
            select(cand.c.pid, type_coerce(cand.c.day, String), cand.c.upvotes,
                   cand.c.ncomments, type_coerce(papers.c.published, String),
                   paper_stats.c.local_upvotes, paper_stats.c.local_comments)
            .join(papers, papers.c.id == cand.c.pid)
            .outerjoin(paper_stats, paper_stats.c.paper_id == cand.c.pid)
            .where(papers.c.hidden == false())
        )
        if submitter:
            base = base.where(
                exists().where(
                    daily_listings.c.paper_id == cand.c.pid,
                    daily_listings.c.submitter == submitter,
                )
            )
        with self.engine.connect() as conn:
            # One narrow query for the whole period, sorted here: cheaper than COUNT + ORDER BY
            # (both scan the period anyway), and every sort shares the same code path.
            rows = [(r[0], _as_date(r[1]), r[2], r[3], _as_datetime(r[4]), r[5], r[6])
                    for r in conn.execute(base)]
            total = len(rows)
            if sort == "trending":
                rows = self._rank_trending(rows, now, period)
            elif sort == "upvotes":
                rows = sorted(rows, key=lambda r: ((r[2] or 0) + (r[5] or 0),
                                                   r[4] or datetime.min, r[0]), reverse=True)
            else:
                rows = sorted(rows, key=lambda r: (r[4] or datetime.min, r[0]), reverse=True)
            rows = rows[offset : offset + limit]
            items = self._hydrate(conn, [r[:4] for r in rows])
        return FeedPage(items=items, total=total, limit=limit, offset=offset)

    def _rank_trending(self, rows: Sequence, now: datetime | None, period: Period | None = None) -> list:
        """Rows (pid, day, up, nc, published, local_up, local_comments) by the trending score of
        :mod:`paperboy.community.trending`; ages are measured at the end of the period shown
        (or now, if sooner), from the start of the listing day (or the v1 time if unlisted)."""
        from paperboy.community import trending as formula

        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        reference = formula.reference_time(period.last if period else None, now)

        def key(r):
            pid, day, up, nc, published = r[:5]
            lup, lnc = (r[5] or 0, r[6] or 0) if len(r) > 5 else (0, 0)
            first_seen = day if day is not None else (published or reference)
            pts = formula.points(up or 0, lup, nc or 0, lnc)
            score = formula.score(pts, formula.age_hours(first_seen, reference))
            return (-score, -(published or now).timestamp(), pid)

        return sorted(rows, key=key)

    def trending(
        self, days: int = 7, limit: int = 30, offset: int = 0, now: datetime | None = None
    ) -> FeedPage:
        """The trending papers of the last ``days`` days that have papers, best first.

        The window ends at the latest day with papers (so an instance that stopped fetching
        still shows something) and reaches ``days`` back from there.
        """
        latest = self.latest_day()
        if latest is None:
            return FeedPage(items=[], total=0, limit=limit, offset=offset)
        period = Period(latest - timedelta(days=days - 1), latest + timedelta(days=1), "range")
        return self.listed(period, "trending", limit, offset, now=now)

    def latest_day(self) -> date | None:
        """The most recent day that has papers (listing day or first-version day)."""
        with self.engine.connect() as conn:
            listed, published = conn.execute(select(
                select(func.max(daily_listings.c.listed_on)).scalar_subquery(),
                select(func.max(papers.c.published)).scalar_subquery(),
            )).one()
        candidates = [d for d in (_as_date(listed), self._local_day(published)) if d is not None]
        return max(candidates) if candidates else None

    def _prev_next_subqueries(self, before: date, after: date):
        """Scalar subqueries for the closest listing / first-version moments around a span."""
        dl = daily_listings
        lo, _ = self._utc_bounds(before, before)
        _, hi = self._utc_bounds(after, after + timedelta(days=1))
        unlisted = ~exists().where(dl.c.paper_id == papers.c.id)
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
            .order_by(papers.c.published.desc(), papers.c.id.desc())
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

    def items_for(self, ids: Sequence[str]) -> list[FeedItem]:
        """FeedItems (with listing facts) for papers in the given order; unknown/hidden skipped."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        with self.engine.connect() as conn:
            visible = set(
                conn.execute(
                    select(papers.c.id).where(papers.c.id.in_(ids), papers.c.hidden == false())
                ).scalars()
            )
            rows = [(i, None, None, None) for i in ids if i in visible]
            return self._hydrate(conn, rows)

    def title_matches(self, text: str, limit: int = 20, offset: int = 0) -> FeedPage:
        """A plain substring match on titles: the fallback while the search index is not ready."""
        words = [w for w in text.split() if w][:8]
        conds = [papers.c.title.ilike(f"%{_like_escape(w)}%", escape="\\") for w in words]
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


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
