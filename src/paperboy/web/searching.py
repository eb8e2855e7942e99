"""The web layer's view of search: the real searcher when it works, a clear fallback when not.

``SearchService`` (paperboy.search.service) is built once per app. If that module is missing, the
index is not built yet, or a search raises, pages still answer: with title matches from the
store and the notice "search index not ready". A :class:`QueryError` is the user's to fix and is
passed on as a message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from paperboy.query import Hit, QueryError, SearchFilters, SearchResults, describe_counts
from paperboy.storage import Store
from paperboy.storage.feeds import FeedItem

log = logging.getLogger(__name__)

NOT_READY = "search index not ready: showing plain title matches"


def saved_query(q: str, category: str | None, author: str | None, code: bool) -> str:
    """The search page's query with its form filters written in the query syntax, so an alert
    or a feed repeats the same search (dates are left out: an alert is about new papers)."""
    parts = [q.strip()] if q and q.strip() else []
    if category:
        parts.append(f"cat:{category}")
    if author:
        parts.append(f'author:"{author.replace(chr(34), "")}"')
    if code:
        parts.append("has:code")
    return " ".join(parts)


def build_searcher(store: Store, settings):
    """The project's SearchService, or None when its index cannot be opened."""
    from paperboy.search.service import SearchService

    try:
        return SearchService(store, settings)
    except Exception as exc:  # an unusable index must not stop the site
        log.warning("search service unavailable: %s", exc)
        return None


@dataclass
class WebResults:
    items: list[FeedItem]
    total: int
    hits: list[Hit] = field(default_factory=list)
    highlight_terms: list[str] = field(default_factory=list)
    message: str | None = None
    mode: str = "hybrid"
    #: False when the fallback answered (no index)
    indexed: bool = True
    #: papers with the words (None: not counted), papers related by meaning only
    matched: int | None = None
    related: int = 0
    related_more: bool = False

    @property
    def summary(self) -> str:
        """"12 papers match the words, and 3 related by meaning"."""
        return describe_counts(self)


class SearchFacade:
    #: similar-paper answers are kept this long (they only change when papers are embedded)
    SIMILAR_TTL = 600.0
    SIMILAR_CACHE = 4096

    def __init__(self, store: Store, searcher=None):
        self.store = store
        self.searcher = searcher
        self._similar: OrderedDict[tuple[str, int], tuple[float, list[str], dict]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.searcher is not None

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        mode: str = "hybrid",
        explain: bool = True,
    ) -> WebResults:
        """Raises QueryError for a query the user must fix; otherwise always answers."""
        if self.searcher is not None:
            try:
                res: SearchResults = self.searcher.search(
                    query, filters=filters, limit=limit, offset=offset, mode=mode,
                    explain=explain,
                )
            except QueryError:
                raise
            except Exception as exc:
                log.warning("search failed, falling back to title matches: %s", exc)
            else:
                by_id = {i.id: i for i in self.store.feeds.items_for([h.id for h in res.hits])}
                items = []
                for hit in res.hits:
                    item = by_id.get(hit.id)
                    if item is not None:
                        item.extra["score"] = hit.score
                        item.extra["explanation"] = hit.explanation
                        items.append(item)
                return WebResults(
                    items=items,
                    total=res.total,
                    hits=res.hits,
                    highlight_terms=list(res.highlight_terms),
                    message=res.message,
                    mode=res.mode,
                    matched=res.matched,
                    related=res.related,
                    related_more=res.related_more,
                )
        page = self.store.feeds.title_matches(query, limit=limit, offset=offset)
        return WebResults(
            items=page.items,
            total=page.total,
            highlight_terms=[w for w in query.split() if len(w) > 1][:8],
            message=NOT_READY,
            mode="title",
            indexed=False,
        )

    def similar(self, paper_id: str, k: int = 6) -> list[FeedItem]:
        """Nearest neighbours (cached for a while), or [] when search is unavailable."""
        if self.searcher is None:
            return []
        key = (paper_id, k)
        now = time.monotonic()
        with self._lock:
            cached = self._similar.get(key)
        if cached is not None and now - cached[0] < self.SIMILAR_TTL:
            ids, scores = cached[1], cached[2]
        else:
            try:
                vectors = getattr(self.searcher, "vectors", None)
                if vectors is not None and vectors.size == 0:
                    return []  # nothing to compare with (and no query embedding to pay for)
                hits = self.searcher.similar(paper_id, k=k)
            except Exception as exc:
                log.info("similar(%s) unavailable: %s", paper_id, exc)
                return []
            ids = [h.id for h in hits if h.id != paper_id]
            scores = {h.id: h.score for h in hits}
            with self._lock:
                self._similar[key] = (now, ids, scores)
                self._similar.move_to_end(key)
                while len(self._similar) > self.SIMILAR_CACHE:
                    self._similar.popitem(last=False)
        items = self.store.feeds.items_for(ids)  # fresh votes and hidden flags every time
        for item in items:
            item.extra["score"] = scores.get(item.id)
        return items
