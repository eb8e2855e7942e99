"""SearchService: the one object that answers searches and "similar papers".

Built once per process (app factory, CLI) from the store and settings; cheap to build: the
embedding model loads on the first query that needs it and the vector index on the first dense
search. Flow of a hybrid query: parse (query.py) -> the best keyword matches (lexical.py:
tantivy on SQLite, tsvector on PostgreSQL) and the nearest vectors, both under the same filters
-> score each candidate exactly on the side that did not find it -> fuse (fusion.py), reading
both lists deeper until the page is certain -> the page's ids, scores and explanations. The
caller reads the papers it shows, once.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np

from paperboy.embedding import model_id, store_precision
from paperboy.errors import NotFound
from paperboy.search.facets import FacetColumns
from paperboy.search.upkeep import IndexUpkeep
from paperboy.query import Hit, Mode, QueryError, SearchFilters, SearchResults
from paperboy.search.fusion import DEFAULT_ALPHA, Candidate, fuse, fused_score
from paperboy.search.lexical import lexical_backend
from paperboy.search.matching import matched_terms
from paperboy.search.query import parse_query
from paperboy.search.similar import SIMILAR_ALPHA
from paperboy.search.pgvectors import vector_index
from paperboy.search.vectors import VectorIndex
from paperboy.settings import Settings
from paperboy.storage import Store

log = logging.getLogger(__name__)

MODES = ("hybrid", "lexical", "dense")
#: Candidates read from each list before fusion (deeper when the page needs it).
DEPTH = 100
MAX_DEPTH = 1000
#: Seconds between checks for vectors written by other processes.
REFRESH_EVERY = 5.0
#: Up to this many cores, a long count gets one of them to itself (see ``_candidates``; measured
#: on 2 cores: with more, the keyword ranking can run beside the embedding and the count alike).
COUNT_ALONE_UP_TO_CORES = 2


@dataclass
class _Pool:
    """Candidates of one search, ranked, with what the counts need."""

    ranked: list[Candidate]  # those that count, best first
    method: str
    best_lexical: float
    related: int  # candidates without the words, close enough in meaning
    #: papers with the words (None: not a keyword search; a Future while it is being counted)
    matched: int | Future | None = None
    related_more: bool = False  # the vector list went on above the cut-off


_blas_limited = False


def one_blas_thread() -> None:
    """Let numpy's BLAS (OpenBLAS) use one thread in this process, once.

    A query's matrix products are small (a few thousand rows by 384), and OpenBLAS's helper
    threads keep spinning after each one, taking the core that the query embedding and the
    keyword search run on next: a dense search with a narrow filter at 1M papers took 36 ms
    with two BLAS threads and 21 ms with one."""
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _blas_limited = True


class SearchService:
    """Implements :class:`paperboy.query.Searcher` over a :class:`Store`."""

    def __init__(self, store: Store, settings: Settings, embedder=None, *,
                 fusion: str = "score", alpha: float = DEFAULT_ALPHA, depth: int = DEPTH):
        self.store = store
        self.settings = settings
        self._embedder = embedder
        self._precision: str | None = None
        self.fusion = fusion
        self.alpha = alpha
        self.depth = depth
        self._lexical = None
        self._executor: ThreadPoolExecutor | None = None
        self._vectors: VectorIndex | None = None
        self._refreshed_at = 0.0
        self._facets: FacetColumns | None = None
        self._facets_at = 0.0
        self._facets_head: int | None = None
        self._facets_rev: int | None = None  # the store's rev read before the last refresh
        #: a paper with none of the words counts when its similarity reaches this
        self.related_min = settings.search_related_min
        self._upkeep: IndexUpkeep | None = None

    # -- components -------------------------------------------------------------------------

    @property
    def upkeep(self) -> IndexUpkeep:
        """The one component that writes this service's indexes (see paperboy.search.upkeep)."""
        if self._upkeep is None:
            self._upkeep = IndexUpkeep(self)
        return self._upkeep

    @property
    def repo(self):
        return self.store.search

    @property
    def embedder(self):
        """The embedding model (loaded on first use)."""
        if self._embedder is None:
            from paperboy.search.embedder import Embedder

            self._embedder = Embedder(
                self.settings.embedding_model,
                cache_dir=self.settings.data_dir / "models",
                max_length=self.settings.embedding_max_length,
                batch_size=self.settings.embedding_batch_size,
                precision=self.precision,
                threads=self.settings.embedding_threads or None,
                device=self.settings.embedding_device,
            )
        return self._embedder

    @property
    def precision(self) -> str:
        """int8 or fp32: the setting, or for ``auto`` what the store's vectors were made with
        (``paperboy.embedding.store_precision``); decided once per service."""
        if self._precision is None:
            self._precision = store_precision(self.settings, self.repo.has_embeddings)
        return self._precision

    @property
    def model_id(self) -> str:
        """The model name vectors are stored under (known without loading the model)."""
        if self._embedder is not None:
            return self._embedder.model_id
        return model_id(self.settings.embedding_model, self.precision)

    @property
    def lexical(self):
        """The keyword backend (tantivy next to SQLite, full-text search in PostgreSQL)."""
        if self._lexical is None:
            self._lexical = lexical_backend(self.repo, self.settings.data_dir / "index")
        return self._lexical

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
            one_blas_thread()  # before the first matrix product (a keyword search has none)
            self._vectors = vector_index(self.repo, self.model_id, self.settings.data_dir / "index")
        now = time.monotonic()
        if now - self._refreshed_at > REFRESH_EVERY:
            self._vectors.refresh()
            self._refreshed_at = now
        return self._vectors

    def _no_vectors_message(self) -> str:
        others = {m: n for m, n in self.repo.embedding_models().items() if m != self.model_id}
        if others:
            old = ", ".join(f"{m} ({n})" for m, n in others.items())
            return (f"embeddings were made with {old}, but the model is now {self.model_id}: "
                    "run `paperboy embed` to re-embed")
        return "no embeddings yet: run `paperboy embed` (showing keyword matches only)"

    # -- search -----------------------------------------------------------------------------

    def search(self, query: str, filters: SearchFilters | None = None, limit: int = 20,
               offset: int = 0, mode: Mode = "hybrid", explain: bool = True) -> SearchResults:
        """Ranked hits: paper ids, scores and explanations (whoever shows them reads the papers).

        The ranking does not depend on ``limit`` or ``offset`` (see :meth:`_candidates`). Each
        hit's explanation has its score on both sides; ``explain`` also finds which query terms
        it contains (stemming the page's abstracts: pages that only highlight words skip it)."""
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r} (hybrid, lexical or dense)")
        limit = max(1, min(int(limit), 200))
        offset = max(0, int(offset))
        parsed = parse_query(query, filters)
        notes = list(parsed.notes)
        flt = None if parsed.filters.is_empty() else parsed.filters
        if parsed.is_empty:
            return self._browse(flt, limit, offset, mode)
        use_lexical = mode in ("hybrid", "lexical") and bool(parsed.terms or parsed.phrases)
        use_dense = mode in ("hybrid", "dense")
        if use_dense and self.vectors.size == 0:
            use_dense = False
            notes.append(self._no_vectors_message())
        if not (use_lexical or use_dense):
            return SearchResults([], 0, mode=mode, highlight_terms=parsed.highlight_terms,
                                 message="; ".join(notes) or "nothing to match", matched=0)
        if use_lexical:
            behind = self.lexical.lag_note()  # reads a counter; a search never indexes
            if behind:
                notes.append(behind)
        # The filter's doc-id mask (date/category columns in memory, recent filters' masks
        # cached; authors from the database) serves the vector search and, on tantivy, the
        # keyword one.
        mask = None
        if flt is not None and (use_dense or self.lexical.postfilters):
            mask = self._mask(flt)
        pool = self._candidates(parsed, flt, mask, use_lexical, use_dense, offset + limit)
        page, hidden_words, hidden_meaning = self._visible_page(pool.ranked, offset, limit)
        hits = self._hits(page, parsed, pool.method, explain)
        if isinstance(pool.matched, Future):  # the count ran beside the ranking and the page
            pool.matched = pool.matched.result()
        matched = None if pool.matched is None else max(0, pool.matched - hidden_words)
        related = max(0, pool.related - hidden_meaning)
        return SearchResults(hits, (matched or 0) + related, mode=mode,
                             highlight_terms=parsed.highlight_terms,
                             message="; ".join(notes) or None,
                             matched=matched, related=related, related_more=pool.related_more)

    def _browse(self, flt: SearchFilters | None, limit: int, offset: int, mode: Mode
                ) -> SearchResults:
        """A query of filters only: the newest papers passing them."""
        if flt is None:
            return SearchResults([], 0, mode=mode, message="empty query: type some words, "
                                 "a \"quoted phrase\", author:NAME or cat:CATEGORY")
        ids, total = self.repo.browse(flt, limit, offset)
        return SearchResults([Hit(pid, 0.0, {"browse": "newest first"}) for pid in ids], total,
                             mode=mode, message="no search words: newest papers matching the filters")

    def _candidates(self, parsed, flt: SearchFilters | None, mask: np.ndarray | None,
                    use_lexical: bool, use_dense: bool, need: int) -> "_Pool":
        """The ranked candidates, read deep enough that their first ``need`` are the first
        ``need`` of the whole store under the filters.

        The best keyword matches and the nearest vectors are read ``depth`` deep, and each
        candidate is scored exactly on the side that did not find it. A paper in neither list
        scores at most what the last one of each list scored (the threshold test of Fagin's
        algorithm); while the ``need``-th candidate is below that bound, both are read deeper.
        Papers without any of the words count only when close enough in meaning
        (``related_min``)."""
        terms, phrases = parsed.terms, parsed.phrases
        method = self.fusion if (use_lexical and use_dense) else ("lexical" if use_lexical else "dense")
        depth = need if method == "lexical" else min(MAX_DEPTH, max(self.depth, need))

        # The exact count of papers with the words (tantivy's own filtering: the longest job of
        # a filtered search at 1M papers) starts first, on the other core, and is waited for
        # only once the page is ready. A first list shorter than asked holds every match and
        # makes it unneeded.
        counting = self._pool().submit(self.lexical.count, terms, phrases, flt) if use_lexical else None

        def keyword_side() -> tuple[list[tuple[int, float]], int | Future | None]:
            found = self.lexical.search(terms, phrases, flt, depth, allowed=mask, required=depth)
            if len(found) < depth:
                counting.cancel()
                return found, len(found)
            return found, counting

        found, matched, qvec, keywords = [], None, None, None
        if (use_lexical and use_dense and (os.cpu_count() or 1) <= COUNT_ALONE_UP_TO_CORES
                and self.lexical.count_is_long(flt)):
            # The count is the longest job: it keeps the other core to itself while this
            # thread embeds the query and then ranks the keywords (two threads for two cores;
            # a third, ranking beside the embedding, slows a long count more than it saves).
            qvec = self._query_vector(parsed, single_thread=True)
            found, matched = keyword_side()
        elif use_lexical and use_dense:
            keywords, qvec = self._embed_beside(parsed, keyword_side)
        elif use_lexical:
            found, matched = keyword_side()
        else:
            qvec = self._query_vector(parsed)
        dense_allowed = mask
        if use_dense and phrases:
            must = self.lexical.phrase_doc_ids(phrases)
            dense_allowed = must if mask is None else np.intersect1d(mask, must)
        while True:
            near = self.vectors.search(qvec, depth, allowed=dense_allowed) if use_dense else None
            if keywords is not None:  # ranked beside the embedding or the vector search
                (found, matched), keywords = keywords.result(), None
            pool = self._score(found, near, terms, phrases, qvec, method, depth=depth)
            bound = self._unseen_bound(found if use_lexical else None, near, depth, pool)
            if bound is None or depth >= MAX_DEPTH or (
                    len(pool.ranked) >= need and pool.ranked[need - 1].fused >= bound):
                break
            depth = min(MAX_DEPTH, depth * 4)
            if use_lexical:
                found = self.lexical.search(terms, phrases, flt, depth, allowed=mask,
                                            required=depth)
        pool.matched = matched
        pool.related_more = bool(near is not None and len(near[0]) >= depth
                                 and float(near[1][-1]) >= self.related_min)
        return pool

    def _embed_beside(self, parsed, keyword_side) -> tuple[Future, np.ndarray]:
        """The query's vector on one core while the keywords are ranked on the other (tantivy
        releases the GIL). One order for every store: a one-thread embedding costs less CPU
        than a two-thread one and leaves the other core free (RESULTS.md, "Issue 16": measured
        against the adaptive order this replaced)."""
        job = self._pool().submit(keyword_side)
        return job, self._query_vector(parsed, single_thread=True)

    def _query_vector(self, parsed, single_thread: bool = False) -> np.ndarray:
        return self.embedder.embed_one(parsed.text or " ".join(parsed.highlight_terms),
                                       single_thread=single_thread)

    def _score(self, found: list[tuple[int, float]], near, terms, phrases, qvec, method: str,
               depth: int, alpha: float | None = None, floor: float | None = None) -> "_Pool":
        """Candidates from both lists (``found`` was asked ``depth`` deep), each with both
        scores, ranked; those that do not count (none of the words, similarity under
        ``floor``: by default ``related_min``) left out."""
        candidates: dict[int, Candidate] = {}
        for rank, (doc_id, score) in enumerate(found, 1):
            candidates[doc_id] = Candidate(doc_id, lexical=score, lexical_rank=rank)
        if near is not None:
            for rank, (doc_id, sim) in enumerate(zip(near[0].tolist(), near[1].tolist()), 1):
                c = candidates.setdefault(doc_id, Candidate(doc_id))
                c.dense, c.dense_rank = float(sim), rank
        best_lexical = found[0][1] if found else 0.0
        if method in ("score", "rrf"):
            # Papers found by meaning only: their BM25, unless the keyword list holds every
            # match (then they have none of the words).
            by_meaning = [d for d, c in candidates.items() if c.lexical is None]
            if by_meaning and len(found) >= depth:
                for doc_id, score in self.lexical.scores(terms, phrases, by_meaning).items():
                    candidates[doc_id].lexical = score
            # Every similarity from the stored vectors (the graph's own are approximate).
            for doc_id, v in self.vectors.vectors(list(candidates)).items():
                candidates[doc_id].dense = float(v @ qvec)
        floor = self.related_min if floor is None else floor
        if method == "lexical":
            ranked = sorted(candidates.values(), key=lambda c: (-c.lexical, c.doc_id))
            for c in ranked:
                c.fused = c.lexical
        elif method == "dense":
            ranked = sorted((c for c in candidates.values() if c.dense >= floor),
                            key=lambda c: (-c.dense, c.doc_id))
            for c in ranked:
                c.fused = c.dense
        else:
            ranked = [c for c in fuse(candidates, method, self.alpha if alpha is None else alpha,
                                           best_lexical)
                      if c.lexical is not None or (c.dense is not None and c.dense >= floor)]
        related = sum(1 for c in ranked if c.lexical is None)
        return _Pool(ranked, method, best_lexical, related)

    def _unseen_bound(self, found, near, depth: int, pool: "_Pool") -> float | None:
        """The best fused score a paper in neither list could have (None: no such paper can
        count, or the method has no bound)."""
        if pool.method != "score":
            return None  # a single list is exact at its depth; RRF ranks depend on depth
        lex_more = found is not None and len(found) >= depth
        dense_more = near is not None and len(near[0]) >= depth
        last_sim = float(near[1][-1]) if dense_more else 0.0
        bounds = []
        if lex_more:  # a paper with some of the words, no closer than the last neighbour
            bounds.append(fused_score(found[-1][1], max(last_sim, 0.0), pool.best_lexical,
                                      self.alpha))
        if dense_more and last_sim >= self.related_min:
            bounds.append(fused_score(None, last_sim, pool.best_lexical, self.alpha))
        return max(bounds) if bounds else None

    def _visible_page(self, ranked: list[Candidate], offset: int, limit: int
                      ) -> tuple[list[tuple[Candidate, str]], int, int]:
        """The requested page of (candidate, paper id), hidden papers skipped, and how many
        hidden ones were passed (found by words, by meaning only).

        Only as many candidates as the page needs are looked up (hidden papers are rare), so
        the cost does not grow with the candidate depth."""
        need = offset + limit
        visible: list[tuple[Candidate, str]] = []
        pos = hidden_words = hidden_meaning = 0
        while len(visible) < need and pos < len(ranked):
            chunk = ranked[pos:pos + need - len(visible) + 8]
            found = self.repo.visible_ids([c.doc_id for c in chunk])
            for c in chunk:
                if c.doc_id in found:
                    visible.append((c, found[c.doc_id]))
                elif c.lexical is None:
                    hidden_meaning += 1
                else:
                    hidden_words += 1
            pos += len(chunk)
        return visible[offset:need], hidden_words, hidden_meaning

    def _hits(self, page: list[tuple[Candidate, str]], parsed, method: str, explain: bool
              ) -> list[Hit]:
        hits = []
        for c, paper_id in page:
            hits.append(Hit(paper_id, round(float(c.fused), 6), {
                "method": method,
                "found_by": "meaning" if c.lexical is None else "words",
                "lexical_rank": c.lexical_rank,
                "lexical_score": None if c.lexical is None else round(c.lexical, 4),
                "dense_rank": c.dense_rank,
                "dense_similarity": None if c.dense is None else round(c.dense, 4),
                "matched_terms": [],
                "phrases": [" ".join(p) for p in parsed.phrases],
            }))
        if parsed.terms and explain and hits:
            found = matched_terms(self.repo.texts([h.id for h in hits]), parsed.terms)
            for h in hits:
                h.explanation["matched_terms"] = found.get(h.id, [])
        return hits

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keywords")
        return self._executor

    def _mask(self, flt: SearchFilters) -> np.ndarray:
        """Sorted doc ids passing the filters: date/category from the in-memory columns,
        author/listing from the database. (Hidden papers are removed after ranking.)"""
        allowed = None
        if flt.since or flt.until or flt.categories:
            now = time.monotonic()
            if self._facets is None:
                self._facets = FacetColumns(self.repo)
            # Also as soon as the keyword index holds newer papers: the keyword side filters
            # with this mask too, and must not miss what it can find. Asking tantivy for its
            # newest rev is a search over every document (~6 ms at 1M papers), so it is asked
            # only when the store has handed out a rev the columns were not refreshed after
            # (one row read): while nothing is written, never.
            index = getattr(self._lexical, "index", None)
            due = now - self._facets_at > REFRESH_EVERY
            head, rev = self._facets_head, self._facets_rev
            if index is not None:
                rev = self.repo.keyword_rev()
                if due or rev != self._facets_rev:
                    head = index.committed_cursor()
            if due or head != self._facets_head:
                self._facets.refresh()
                self._facets_at, self._facets_head, self._facets_rev = now, head, rev
            allowed = self._facets.mask(flt.since, flt.until, flt.categories)
        people = self.repo.people_doc_ids(flt)
        if people is not None:
            allowed = people if allowed is None else np.intersect1d(allowed, people, assume_unique=True)
        return allowed if allowed is not None else self.repo.filter_doc_ids(flt)

    # -- similar ----------------------------------------------------------------------------

    def similar(self, paper_id: str, k: int = 10, since: date | None = None,
                until: date | None = None) -> list[Hit]:
        """Papers closest to this one (itself excluded), optionally in a date window: its
        nearest vectors fused with a keyword query of its most distinctive words
        (:mod:`paperboy.search.similar`), each candidate scored on both sides."""
        k = max(1, min(int(k), 200))
        doc_id = self.repo.doc_ids([paper_id]).get(paper_id)
        if doc_id is None:
            raise NotFound(f"no paper {paper_id} in the store")
        if self.vectors.size == 0:
            return []
        paper = self.store.papers.get(paper_id)
        vec = self.vectors.vector(doc_id)
        if vec is None:
            from paperboy.storage.search_index import embed_text

            vec = self.embedder.embed_one(embed_text(paper.title, paper.abstract))
        window = SearchFilters(since=since, until=until)
        flt = None if window.is_empty() else window
        mask = None if flt is None else self._mask(flt)
        depth = max(self.depth, k + 10)
        terms = self.lexical.distinctive_words(paper.title, paper.abstract)
        found = []
        if terms:
            found = [(d, s) for d, s in self.lexical.search(terms, [], flt, depth + 1, allowed=mask,
                                                           required=depth + 1) if d != doc_id]
        ids, sims = self.vectors.search(vec, depth, allowed=mask, exclude=doc_id)
        method = "score" if terms else "dense"
        # Neighbours are a ranking, not matches: no similarity cut-off.
        pool = self._score(found, (ids, sims), terms, [], vec, method, depth=depth,
                           alpha=SIMILAR_ALPHA, floor=-1.0)
        page, _, _ = self._visible_page(pool.ranked, 0, k)
        return [Hit(pid, round(float(c.fused), 6), {
            "method": "similar",
            "dense_similarity": None if c.dense is None else round(c.dense, 4),
            "dense_rank": c.dense_rank,
            "lexical_score": None if c.lexical is None else round(c.lexical, 4),
            "lexical_rank": c.lexical_rank,
        }) for c, pid in page]

    # -- index maintenance ------------------------------------------------------------------

    def embed_new(self, ids: list[str]) -> None:
        """Embed these papers now; a model that fails to load is logged, not raised."""
        try:
            self.embed_papers(ids)
        except Exception as exc:  # noqa: BLE001 - ingest must not fail because of the model
            log.warning("could not embed %d new papers (%s); run `paperboy embed`", len(ids), exc)

    def embed_papers(self, ids: list[str]) -> int:
        from paperboy.storage.search_index import embed_text, text_hash

        papers = self.store.papers.get_many(ids)
        if not papers:
            return 0
        texts = [embed_text(p.title, p.abstract) for p in papers]
        vecs = self.embedder.embed(texts)
        self.repo.put_embeddings(self.model_id, [
            (p.id, text_hash(p.title or "", p.abstract or ""), v) for p, v in zip(papers, vecs)])
        self._refreshed_at = self._facets_at = 0.0
        return len(papers)

    def embed_claimed(self, worker: str, batch: int = 512, claim_seconds: float = 600,
                      on_batch: Callable[[int], None] | None = None,
                      wait: float = 0.5) -> int:
        """Embed batches claimed from the shared queue (PostgreSQL) until none is left, also
        waiting for batches other workers hold: one that dies leaves its claim to expire, and
        this worker takes it then. Any number of workers, on any machines, may run this at
        once; each paper is embedded by one of them. Returns how many this worker embedded."""
        from paperboy.storage.search_index import embed_text, text_hash

        queue = self.repo.embed_queue
        model = self.model_id
        queue.fill(model, ([pid for pid, _, _ in rows]
                           for rows in self.repo.missing_embeddings(model, batch)))
        done = 0
        while True:
            ids = queue.claim(model, worker, batch, claim_seconds)
            if not ids:
                if not queue.pending(model):
                    break
                time.sleep(wait)  # others hold the rest: wait for them to finish or expire
                continue
            papers = self.store.papers.get_many(ids)
            gone = set(ids) - {p.id for p in papers}
            if gone:
                queue.release(model, sorted(gone))
            if papers:
                vecs = self.embedder.embed([embed_text(p.title, p.abstract) for p in papers])
                self.repo.put_embeddings(model, [
                    (p.id, text_hash(p.title or "", p.abstract or ""), v)
                    for p, v in zip(papers, vecs)])
                done += len(papers)
                if on_batch is not None:
                    on_batch(done)
        self._refreshed_at = 0.0
        return done

    def embed_missing(self, progress: bool = False, batch: int = 512,
                      on_batch: Callable[[int], None] | None = None) -> int:
        """Embed every paper without an up-to-date vector; resumable (commits per batch)."""
        total = self.repo.count_missing_embeddings(self.model_id)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="paper", desc="embed", dynamic_ncols=True)
        done = 0
        try:
            for rows in self.repo.missing_embeddings(self.model_id, batch):
                vecs = self.embedder.embed([t for _, t, _ in rows])
                self.repo.put_embeddings(self.model_id,
                                         [(pid, digest, v) for (pid, _, digest), v in zip(rows, vecs)])
                done += len(rows)
                if bar is not None:
                    bar.update(len(rows))
                if on_batch is not None:
                    on_batch(done)
        finally:
            if bar is not None:
                bar.close()
        self._refreshed_at = 0.0
        if self._vectors is not None:
            self._vectors.refresh()
            self._vectors.save()
        return done

    def stale_models(self) -> dict[str, int]:
        """Vectors stored for models other than the configured one."""
        return {m: n for m, n in self.repo.embedding_models().items() if m != self.model_id}

    def rebuild(self, progress: bool = False) -> dict:
        """Repair: re-derive the keyword index from papers and reload the vector index."""
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.repo.doc_count(), unit="paper", desc="keyword index",
                       dynamic_ncols=True)
        try:
            docs = self.lexical.rebuild(progress=bar.update if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        if self._vectors is None:
            self._vectors = vector_index(self.repo, self.model_id, self.settings.data_dir / "index")
        self._vectors.clear()
        self._vectors.refresh()
        self._vectors.save()
        self._refreshed_at = time.monotonic()
        return {"documents": docs, "vectors": self._vectors.size, "model": self.model_id,
                "missing_vectors": self.repo.count_missing_embeddings(self.model_id)}
