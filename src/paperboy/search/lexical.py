"""The keyword side of search, one interface over the two backends.

* :class:`TantivyLexical` (SQLite, the embedded default): the tantivy index of
  :mod:`paperboy.search.keywords`, fed from the store by rev; filters on date and category are
  fields of the index, author and listing filters arrive as doc-id sets from the store.
* :class:`DatabaseLexical` (PostgreSQL): the weighted tsvector kept by triggers in the same
  transaction as the papers (migration 0002_search), ranked with ``ts_rank``; several workers
  or hosts share it with nothing to sync.

Both answer with doc ids and scores; the service fuses them and hydrates papers from the store.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from paperboy.query import SearchFilters
from paperboy.search.keywords import (
    IndexBusy,
    KeywordIndex,
    KeywordQuery,
    docs_reader,
)
from paperboy.search.similar import distinctive_words
from paperboy.storage.search_index import SearchIndexRepository

#: Seconds a search reuses its last look at how far the index is behind the store.
LAG_CHECK_EVERY = 2.0
#: A file in the index directory an indexer touches while it works (each batch or chunk);
#: searches call the lag "being indexed" only while it is this fresh (seconds).
HEARTBEAT = "indexing.heartbeat"
HEARTBEAT_FRESH = 60.0
#: A filtered keyword search reads at most this deep into the unfiltered ranking (up to there it
#: is cheaper than tantivy's own filtering: benchmarks/RESULTS.md, "Issue 17")...
POSTFILTER_MAX = 8000
#: ... aiming at this many times the required matches, so that enough survive the filter.
POSTFILTER_MARGIN = 1.5
#: From this many documents, counting the matches under a filter (tantivy's own filtering) takes
#: longer than embedding the query and ranking the keywords together (benchmarks/RESULTS.md,
#: "Issue 16: the filtered count at 1M").
LONG_COUNT_FROM = 500_000


class TantivyLexical:
    """BM25 from the tantivy index next to the database, caught up from the store by rev."""

    #: takes the filter's doc-id mask (see ``search``)
    postfilters = True

    def __init__(self, repo: SearchIndexRepository, directory: Path):
        self.repo = repo
        self.index = KeywordIndex(directory)
        self.fetch = docs_reader(repo)
        #: the store's newest rev when last looked at (``lag_note``)
        self.head: int | None = None
        self._lag: str | None = None
        self._lag_checked = -LAG_CHECK_EVERY
        self._heartbeat = Path(directory) / HEARTBEAT

    def pending(self) -> int:
        """Papers changed in the store that the index does not hold yet (0 when current)."""
        head = self.repo.keyword_rev()
        if head <= self.index.cursor:
            return 0
        self.index.reload()  # another process may have indexed them
        return 0 if head <= self.index.cursor else self.repo.count_keyword_docs(self.index.cursor)

    def lag_note(self) -> str | None:
        """For a search: a note when the store holds papers the index does not yet (None when
        current). Reads the store's rev counter and the index's committed cursor at most every
        :data:`LAG_CHECK_EVERY` seconds; never counts documents, never takes the writer."""
        now = time.monotonic()
        if now - self._lag_checked < LAG_CHECK_EVERY:
            return self._lag
        self._lag_checked = now
        self.head = self.repo.keyword_rev()
        if self.head <= self.index.committed_cursor():
            self._lag = None
        elif self.indexing_recently():
            self._lag = ("some papers stored in the last moments are being indexed; they "
                         "become searchable by keyword shortly")
        else:
            self._lag = ("some stored papers are not searchable by keyword yet and nothing is "
                         "indexing them (an import stopped?): run `paperboy index sync`, or keep "
                         "`paperboy serve` or `paperboy worker` running, which do it")
        return self._lag

    def mark_indexing(self) -> None:
        """Tell searches (in any process) that an indexer is at work right now."""
        try:
            self._heartbeat.parent.mkdir(parents=True, exist_ok=True)
            self._heartbeat.touch()
        except OSError:  # a read-only data directory: the note just says less
            pass

    def indexing_recently(self) -> bool:
        try:
            return time.time() - self._heartbeat.stat().st_mtime < HEARTBEAT_FRESH
        except OSError:
            return False

    def sync(self, progress: Callable[[int], None] | None = None, threads: int = 1,
             heap_mb: int = 64) -> int | None:
        """Index everything pending (the upkeep, `paperboy index rebuild`); None when another
        process holds the writer (it will finish the job)."""
        if self.repo.keyword_rev() <= self.index.committed_cursor():
            return 0  # current: the writer is not even asked for

        def chunk_done(n: int) -> None:
            self.mark_indexing()
            if progress is not None:
                progress(n)

        self.mark_indexing()
        return self.index.sync(self.fetch, threads=threads, heap_mb=heap_mb, on_chunk=chunk_done)

    def follower(self) -> "KeywordFollower":
        """A listener for one import run (see :class:`KeywordFollower`)."""
        return KeywordFollower(self)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        self.repo.ensure_search_docs()
        self.index.clear()
        done = self.sync(progress, threads=2, heap_mb=256)
        if done is None:
            raise IndexBusy()
        return self.index.size

    def forget(self, doc_ids) -> None:
        """Drop documents of papers deleted from the store."""
        self.index.delete(doc_ids)

    def check(self) -> bool:
        """True when the index holds every paper of the store, each at its current rev."""
        return self.pending() == 0 and self.index.size == self.repo.doc_count()

    def _query(self, terms, phrases, flt: SearchFilters | None) -> KeywordQuery | None:
        kw: dict = {}
        if flt is not None:
            kw = dict(since=flt.since, until=flt.until, categories=list(flt.categories))
            people = self.repo.people_doc_ids(flt)
            if people is not None:
                kw["doc_ids"] = people.tolist()
        return KeywordQuery.from_words(terms, phrases, **kw)

    def search(self, terms: Sequence[str], phrases: Sequence[Sequence[str]],
               flt: SearchFilters | None, limit: int, allowed: np.ndarray | None = None,
               required: int | None = None) -> list[tuple[int, float]]:
        """The best ``limit`` (doc id, BM25) under the filters, best first.

        With ``allowed`` (the sorted doc ids passing ``flt``, which the caller has for the
        vector side anyway) the unfiltered ranking is read deep enough for the filter's share
        of the papers and what the filter rejects is dropped. That is the same ranking: what
        survives is exactly the filtered top-n. tantivy's own filtering costs more on wide
        filters (it evaluates the whole date range and category sets). When fewer than ``required`` survive, the index filters itself."""
        if allowed is not None and flt is not None:
            got = self._postfiltered(terms, phrases, limit, allowed, required or limit)
            if got is not None:
                return got
        q = self._query(terms, phrases, flt)
        ids, scores = self.index.search(q, limit)
        return list(zip(ids.tolist(), scores.tolist()))

    def _postfiltered(self, terms, phrases, limit: int, allowed: np.ndarray, required: int
                      ) -> list[tuple[int, float]] | None:
        size = self.index.size
        if len(allowed) == 0 or size == 0:
            return None
        share = min(1.0, len(allowed) / size)
        if required * POSTFILTER_MARGIN / share > POSTFILTER_MAX:
            return None  # a narrow filter: cheaper for the index to intersect
        deep = int(min(POSTFILTER_MAX, max(limit, required * POSTFILTER_MARGIN) / share)) + 1
        ids, scores = self.index.search(KeywordQuery.from_words(terms, phrases), deep)
        if len(ids):
            pos = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
            keep = allowed[pos] == ids
            ids, scores = ids[keep][:limit], scores[keep][:limit]
            complete = len(keep) < deep  # every match was read
        else:
            complete = True
        if len(ids) < required and not complete:
            return None
        return list(zip(ids.tolist(), scores.tolist()))

    def phrase_doc_ids(self, phrases: Sequence[Sequence[str]], cap: int = 200_000) -> np.ndarray:
        q = KeywordQuery.from_words([], phrases)
        ids, _ = self.index.search(q, cap)
        return np.sort(ids)

    def scores(self, terms: Sequence[str], phrases: Sequence[Sequence[str]],
               doc_ids: Sequence[int]) -> dict[int, float]:
        """BM25 of these documents for the words (documents without them are left out): the
        same score the ranking gives them, however deep it was read."""
        if not len(doc_ids):
            return {}
        q = KeywordQuery.from_words(terms, phrases, doc_ids=[int(d) for d in doc_ids])
        ids, scores = self.index.search(q, len(doc_ids))
        return dict(zip(ids.tolist(), scores.tolist()))

    def count(self, terms: Sequence[str], phrases: Sequence[Sequence[str]],
              flt: SearchFilters | None) -> int:
        """How many papers match the words under the filters."""
        return self.index.count(self._query(terms, phrases, flt))

    def count_is_long(self, flt: SearchFilters | None) -> bool:
        """Whether counting under ``flt`` takes longer than embedding the query and ranking the
        keywords (the search then gives the count a core of its own)."""
        return flt is not None and self.index.size >= LONG_COUNT_FROM

    def distinctive_words(self, title: str, abstract: str) -> list[str]:
        """A paper's words that best tell it apart (the keyword side of "similar papers")."""
        return distinctive_words(title, abstract, self.index.doc_freq, self.index.size)


class KeywordFollower:
    """Keeps the keyword index up with an import: fed after each stored batch and committed
    every few seconds and at the end (``close``), so tantivy's indexing works beside the import
    instead of after it. The first batches go in through a writer in this process; a longer
    import hands the rest to a helper process (:mod:`paperboy.search.follow_process`), whose
    Python work then no longer shares the import's GIL. (A follower *thread* measured no
    faster: its Python work competed with the import's.) If another process holds the writer,
    the batches are left to it (it catches up by rev)."""

    COMMIT_EVERY = 5.0  # seconds
    #: writer memory: larger segments mean fewer merges
    HEAP_MB = 128
    #: batches indexed in this process before a helper process takes over (small imports,
    #: e.g. a day of listings, never pay for starting one)
    HELPER_AFTER = 2
    #: at the end, seconds to wait for another process's writer to take in what is still pending
    CLOSE_WAIT = 30.0

    def __init__(self, lexical: TantivyLexical, helper: bool = True):
        self.lexical = lexical
        self.writer = None
        self.committed_at = time.monotonic()
        self.batches = 0
        self.use_helper = helper
        self.helper = None

    def __call__(self, ids: list[str]) -> None:
        self.batches += 1
        self.lexical.mark_indexing()
        if self.helper is not None:
            if self.helper.poke():
                return
            self._helper_done()  # it died: go on in this process
        elif self.use_helper and self.batches > self.HELPER_AFTER:
            self._start_helper()
            if self.helper is not None:
                return
        if self.writer is None:
            self.writer = self.lexical.index.writer(heap_mb=self.HEAP_MB)
            if self.writer is None:
                return
        self.writer.catch_up(self.lexical.fetch)
        if time.monotonic() - self.committed_at >= self.COMMIT_EVERY:
            self.writer.commit()
            self.committed_at = time.monotonic()

    def _start_helper(self) -> None:
        from paperboy.search.follow_process import Helper

        self.use_helper = False  # one try per run
        if self.writer is not None:
            self.writer.close()  # frees tantivy's lock for the helper
            self.writer = None
        engine = self.lexical.repo.engine
        try:
            self.helper = Helper(engine.url.render_as_string(hide_password=False),
                                 self.lexical.index.root, self.HEAP_MB)
        except OSError:  # could not start a process: stay in this one
            self.helper = None
            return
        self.helper.poke()

    def _helper_done(self) -> None:
        helper, self.helper = self.helper, None
        if not helper.finish():
            self.lexical.sync(heap_mb=self.HEAP_MB)  # what the helper left undone
        self.lexical.index.reload()

    def close(self) -> None:
        if self.helper is not None:
            self._helper_done()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        # Batches left to another process's writer (a helper of a killed import finishing its
        # part, the server's sync) are taken in here once it lets go, so the run ends indexed.
        deadline = time.monotonic() + self.CLOSE_WAIT
        while self.lexical.pending():
            if self.lexical.sync(heap_mb=self.HEAP_MB) is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)


class DatabaseLexical:
    """PostgreSQL full-text search (tsvector + GIN), always current: triggers maintain it."""

    postfilters = False  # the database filters in the same query
    head = None  # no revs: triggers keep the index current in each transaction

    def __init__(self, repo: SearchIndexRepository, weights: tuple[float, float] = (4.0, 1.0)):
        self.repo = repo
        self.weights = weights

    def lag_note(self) -> str | None:
        return None

    def sync(self, progress=None, **_) -> int:
        return 0

    def pending(self) -> int:
        return 0

    def follower(self):
        return None  # triggers index every paper in its own transaction

    def forget(self, doc_ids) -> None:
        """Nothing to do: the rows went with the papers (foreign keys)."""

    def rebuild(self, progress=None) -> int:
        return self.repo.rebuild_lexical()

    def check(self) -> bool:
        return True

    def search(self, terms, phrases, flt, limit, allowed=None, required=None
               ) -> list[tuple[int, float]]:
        return [(h.doc_id, h.score) for h in self.repo.lexical(terms, phrases, flt, limit)]

    def phrase_doc_ids(self, phrases, cap: int = 200_000) -> np.ndarray:
        return self.repo.phrase_doc_ids(phrases, cap)

    def scores(self, terms, phrases, doc_ids) -> dict[int, float]:
        if not len(doc_ids):
            return {}
        return {h.doc_id: h.score
                for h in self.repo.lexical(terms, phrases, None, len(doc_ids), doc_ids=doc_ids)}

    def count(self, terms, phrases, flt) -> int:
        return self.repo.lexical_count(terms, phrases, flt)

    def count_is_long(self, flt) -> bool:
        return False  # the database counts; this process only waits

    def distinctive_words(self, title: str, abstract: str) -> list[str]:
        return []  # no cheap document frequencies: "similar papers" is by meaning only here


def lexical_backend(repo: SearchIndexRepository, index_dir: Path):
    """tantivy on SQLite, the database's own full-text search on PostgreSQL."""
    if repo.dialect == "postgresql":
        return DatabaseLexical(repo)
    return TantivyLexical(repo, index_dir)
