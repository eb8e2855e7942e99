"""What goes into each subscriber's digest: trending papers + new matches of saved searches.

Composition is done for a batch of subscribers at once, sharing everything that can be shared:

- the period's trending list is read **once per run** (the whole window, ranked by the feed's
  trending score) and filtered per subscriber by category in memory;
- saved searches are **grouped by normalized query**: a query that 5,000 subscribers saved runs
  one search per run, not 5,000. Each subscriber then keeps the hits that are *new for them*:
  papers this store first saw after their alert's high-water mark and up to the run's cut-off
  (``papers.created_at``). On a sent digest the high-water mark moves to the cut-off, so the next
  digest holds only papers that arrived since.

Saved searches run lexically by default: an alert should fire on papers that match its words
(or its ``author:``/``cat:`` filters), not on whatever is nearest in embedding space.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Callable, Sequence

from paperboy.mail.addresses import normalize_query, search_text
from paperboy.query import QueryError, SearchFilters
from paperboy.records import Paper
from paperboy.storage import Store
from paperboy.storage.subscriptions import SavedSearch, Subscriber

log = logging.getLogger(__name__)

#: hits examined per distinct saved search and run
ALERT_POOL = 100
#: new matches shown per alert in one digest
ALERT_SHOWN = 10
#: papers read from the period's trending list (ranked once, filtered per subscriber)
TRENDING_POOL = 5000
#: saved searches only look at papers published at most this many days before the period
ALERT_LOOKBACK_DAYS = 14


@dataclass
class DigestPaper:
    id: str
    title: str
    authors: list[str]
    excerpt: str
    categories: list[str]
    upvotes: int = 0
    comments: int = 0
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    #: why a "For you" paper is in the digest (a follow, a rule, the liked paper it is close to)
    why: str | None = None

    @property
    def authors_line(self) -> str:
        if len(self.authors) <= 4:
            return ", ".join(self.authors)
        return ", ".join(self.authors[:3]) + f" and {len(self.authors) - 3} more"


@dataclass
class AlertSection:
    saved: SavedSearch
    papers: list[DigestPaper]


@dataclass
class Digest:
    subscriber: Subscriber
    period: str
    period_key: str
    window_start: date
    window_end: date  # exclusive
    trending: list[DigestPaper]
    alerts: list[AlertSection]
    #: saved search id -> new high-water mark, written when the digest is recorded as sent
    high_waters: dict[int, datetime] = field(default_factory=dict)
    #: trending papers of the period left out only because they have no category yet
    uncategorized: int = 0
    #: papers picked for the subscriber's account ("For you"), shown first
    for_you: list[DigestPaper] = field(default_factory=list)

    @property
    def paper_count(self) -> int:
        return len(self.for_you) + len(self.trending) + sum(len(a.papers) for a in self.alerts)

    @property
    def is_empty(self) -> bool:
        return self.paper_count == 0


def excerpt(text: str, length: int = 300) -> str:
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def _digest_paper(paper: Paper, upvotes: int = 0, comments: int = 0) -> DigestPaper:
    return DigestPaper(
        id=paper.id,
        title=" ".join((paper.title or "").split()),
        authors=list(paper.authors or []),
        excerpt=excerpt(paper.abstract),
        categories=list(paper.categories or []),
        upvotes=upvotes or 0,
        comments=comments or 0,
        abs_url=paper.abs_url,
        pdf_url=paper.pdf_url,
        code_url=paper.code_url,
    )


def period_window(period: str, today: date) -> tuple[date, date]:
    """Days [start, end) a digest covers: yesterday for daily, the 7 days before for weekly."""
    days = 7 if period == "weekly" else 1
    return today - timedelta(days=days), today


#: (subscribers linked to an account, first day, day after the last) -> subscriber id ->
#: [(paper id, why)], best first: the "For you" picks, computed for a whole batch at once
#: (paperboy.jobs.for_you provides it; mail cannot rank on its own)
PersonalPicks = Callable[[Sequence[Subscriber], date, date], dict[int, list[tuple[str, str]]]]


@dataclass
class ComposeStats:
    searches_run: int = 0
    search_errors: int = 0
    trending_reads: int = 0
    digests: int = 0


class DigestComposer:
    """Composes digests for one period and one run (caches live as long as the composer)."""

    def __init__(self, store: Store, searcher, period: str, period_key: str, today: date,
                 cutoff: datetime, alert_mode: str = "lexical", group_searches: bool = True,
                 personal: PersonalPicks | None = None):
        self.store = store
        self.personal = personal
        self.searcher = searcher
        self.period = period
        self.period_key = period_key
        self.window = period_window(period, today)
        self.cutoff = cutoff
        self.alert_mode = alert_mode
        #: False only for the benchmark's naive baseline (one search per saved search)
        self.group_searches = group_searches
        self.stats = ComposeStats()
        self._trending: list[DigestPaper] | None = None
        self._search_cache: dict[str, list[str]] = {}
        self._first_stored: dict[str, datetime] = {}
        self._papers: dict[str, DigestPaper] = {}

    # -- trending -----------------------------------------------------------------------------

    def trending(self) -> list[DigestPaper]:
        if self._trending is None:
            from paperboy.storage.feeds import Period

            start, end = self.window
            page = self.store.feeds.listed(Period(start, end, "range"), "trending",
                                           limit=TRENDING_POOL)
            self.stats.trending_reads += 1
            self._trending = [_digest_paper(i.paper, i.upvotes, i.comments) for i in page.items]
        return self._trending

    def trending_for(self, sub: Subscriber, exclude: set[str] = frozenset()) -> list[DigestPaper]:
        """The subscriber's categories, best first; papers already in an alert section are left
        out (the alert is the more personal reason to show them)."""
        wanted = set(sub.categories)
        out = []
        for p in self.trending():
            if p.id in exclude:
                continue
            if not wanted or wanted.intersection(p.categories):
                out.append(p)
                if len(out) >= sub.max_papers:
                    break
        return out

    def uncategorized_for(self, sub: Subscriber) -> int:
        """Trending papers of the period a category choice cannot match yet (no category:
        Hugging Face lists come without, arXiv's fetch fills them): the digest says how many."""
        if not sub.categories:
            return 0
        return sum(1 for p in self.trending() if not p.categories)

    def empty_reason(self, digest: "Digest") -> str:
        """One line on why a digest has nothing to send (shown by ``digest status``)."""
        start, end = self.window
        when = (start.isoformat() if end - start == timedelta(days=1)
                else f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}")
        pool = self.trending()
        if not pool:
            why = f"no papers listed on {when}"
        elif digest.subscriber.categories:
            why = (f"none of the {len(pool)} papers of {when} is in "
                   + ", ".join(digest.subscriber.categories))
            if digest.uncategorized:
                why += f" ({digest.uncategorized} without a category yet)"
        else:
            why = f"no papers to show for {when}"
        return why + "; no new matches for its alerts"

    # -- saved searches -----------------------------------------------------------------------

    def _run_search(self, query: str, since: date) -> list[str]:
        if self.searcher is None:
            return []
        self.stats.searches_run += 1
        try:
            results = self.searcher.search(search_text(query), SearchFilters(since=since),
                                           limit=ALERT_POOL,
                                           mode=self.alert_mode, explain=False)
        except QueryError as exc:
            self.stats.search_errors += 1
            log.info("saved search %r skipped: %s", query, exc)
            return []
        return [h.id for h in results.hits]

    def _matches(self, saved: SavedSearch, since: date) -> list[str]:
        if not self.group_searches:
            return self._run_search(saved.query, since)
        key = saved.query_key or normalize_query(saved.query)[1]
        if key not in self._search_cache:
            self._search_cache[key] = self._run_search(saved.query, since)
        return self._search_cache[key]

    def _load(self, ids: Sequence[str]) -> None:
        missing = [i for i in ids if i not in self._first_stored]
        if missing:
            self._first_stored.update(self.store.subscriptions.first_stored(missing))
        need = [i for i in ids if i not in self._papers and i in self._first_stored]
        for paper in self.store.papers.get_many(need):
            self._papers[paper.id] = _digest_paper(paper)

    def alerts_for(self, saved_searches: Sequence[SavedSearch],
                   since: date) -> tuple[list[AlertSection], dict[int, datetime]]:
        sections, marks = [], {}
        for saved in saved_searches:
            ids = self._matches(saved, since)
            self._load(ids)
            new = [
                self._papers[i] for i in ids
                if i in self._papers and saved.high_water < self._first_stored[i] <= self.cutoff
            ][:ALERT_SHOWN]
            marks[saved.id] = self.cutoff
            if new:
                sections.append(AlertSection(saved, new))
        return sections, marks

    # -- "For you" ----------------------------------------------------------------------------

    def for_you(self, subscribers: Sequence[Subscriber]) -> dict[int, list[DigestPaper]]:
        """The personal picks of the batch's subscribers linked to an account (one call)."""
        linked = [s for s in subscribers if s.user_id is not None]
        if self.personal is None or not linked:
            return {}
        start, end = self.window
        picks = self.personal(linked, start, end)
        ids = list(dict.fromkeys(pid for rows in picks.values() for pid, _ in rows))
        papers = {p.id: p for p in self.store.papers.get_many(ids)}
        out: dict[int, list[DigestPaper]] = {}
        for sub_id, rows in picks.items():
            out[sub_id] = [replace(_digest_paper(papers[pid]), why=why)
                           for pid, why in rows if pid in papers]
        return out

    # -- digests ------------------------------------------------------------------------------

    def compose(self, subscribers: Sequence[Subscriber]) -> list[Digest]:
        saved_by_sub = self.store.subscriptions.saved_searches_for([s.id for s in subscribers])
        all_saved = [ss for lst in saved_by_sub.values() for ss in lst]
        # One lower bound on the publication date for every search of the run, so a cached
        # result is valid for every subscriber that shares the query.
        since = self.window[0] - timedelta(days=ALERT_LOOKBACK_DAYS)
        if self.group_searches:
            # Run each distinct query once, with the batch-wide lower bound.
            for ss in all_saved:
                self._matches(ss, since)
        for_you = self.for_you(subscribers)
        digests = []
        for sub in subscribers:
            alerts, marks = self.alerts_for(saved_by_sub.get(sub.id, []), since)
            start, end = self.window
            mine = for_you.get(sub.id, [])
            shown = {p.id for a in alerts for p in a.papers} | {p.id for p in mine}
            digests.append(Digest(
                subscriber=sub, period=self.period, period_key=self.period_key,
                window_start=start, window_end=end,
                trending=self.trending_for(sub, shown),
                alerts=alerts, high_waters=marks, uncategorized=self.uncategorized_for(sub),
                for_you=mine,
            ))
            self.stats.digests += 1
        return digests
