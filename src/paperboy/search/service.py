"""SearchService: the one object that answers searches and "similar papers".

Built once per process (app factory, CLI) from the store and settings; cheap to build: the
embedding model loads on the first query that needs it and the vector index on the first dense
search. Flow of a hybrid query: parse (query.py) -> lexical top N from the keyword index
(lexical.py: tantivy on SQLite, tsvector on PostgreSQL) and dense top N from the vector index,
both under the same filters -> complete the missing score of each candidate (dense similarity
from its stored vector, the keyword score from one query restricted to those documents) ->
fuse (fusion.py) -> page -> hydrate papers from the store -> explain each hit.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Callable

import numpy as np

from paperboy.errors import NotFound
from paperboy.records import Paper
from paperboy.search.facets import FacetColumns
from paperboy.search.schedule import HybridSchedule, work_kind
from paperboy.search.upkeep import IndexUpkeep
from paperboy.query import Hit, Mode, QueryError, SearchFilters, SearchResults
from paperboy.search.fusion import DEFAULT_ALPHA, Candidate, fuse
from paperboy.search.lexical import lexical_backend
from paperboy.search.matching import matched_terms
from paperboy.search.query import parse_query
from paperboy.search.pgvectors import vector_index
from paperboy.search.vectors import VectorIndex
from paperboy.settings import Settings
from paperboy.storage import Store

log = logging.getLogger(__name__)

MODES = ("hybrid", "lexical", "dense")
#: Candidates taken from each list before fusion (more when paging deep).
DEPTH = 100
MAX_DEPTH = 1000
#: Keyword matches read for hybrid queries, so candidates found by meaning get their score
#: (SciFact train nDCG@10 with 100 / 300 / 1,000: 0.7424 / 0.7430 / 0.7430).
LEXICAL_POOL = 300
#: Seconds between checks for vectors written by other processes.
REFRESH_EVERY = 5.0


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
        one_blas_thread()
        self.store = store
        self.settings = settings
        self._embedder = embedder
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
        self._upkeep: IndexUpkeep | None = None
        self.schedule = HybridSchedule()  # which hybrid work runs beside which

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
                quantize=self.settings.embedding_int8,
            )
        return self._embedder

    @property
    def model_id(self) -> str:
        """The model name vectors are stored under (known without loading the model)."""
        if self._embedder is not None:
            return self._embedder.model_id
        return self.settings.embedding_model + ("+int8" if self.settings.embedding_int8 else "")

    @property
    def lexical(self):
        """The keyword backend (tantivy next to SQLite, full-text search in PostgreSQL)."""
        if self._lexical is None:
            self._lexical = lexical_backend(self.repo, self.settings.data_dir / "index")
        return self._lexical

    @property
    def vectors(self) -> VectorIndex:
        if self._vectors is None:
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
        """Ranked hits with their papers. Every hit's explanation has its rank and score in
        each list; ``explain`` also decides which query terms each hit contains (stemming the
        page's abstracts, ~2-3 ms a page: pages that only highlight words skip it)."""
        if mode not in MODES:
            raise QueryError(f"unknown search mode {mode!r} (hybrid, lexical or dense)")
        limit = max(1, min(int(limit), 200))
        offset = max(0, int(offset))
        parsed = parse_query(query, filters)
        notes = list(parsed.notes)
        flt = None if parsed.filters.is_empty() else parsed.filters

        if parsed.is_empty:
            if flt is None:
                return SearchResults([], 0, mode=mode, message="empty query: type some words, "
                                     "a \"quoted phrase\", author:NAME or cat:CATEGORY")
            ids, total = self.repo.browse(flt, limit, offset)
            hits = self._hydrate([Hit(pid, 0.0, {"browse": "newest first"}) for pid in ids])
            return SearchResults(hits, total, mode=mode,
                                 message="no search words: newest papers matching the filters")

        depth = min(MAX_DEPTH, max(self.depth, offset + limit))
        use_lexical = mode in ("hybrid", "lexical") and bool(parsed.terms or parsed.phrases)
        use_dense = mode in ("hybrid", "dense")
        if use_dense and self.vectors.size == 0:
            use_dense = False
            notes.append(self._no_vectors_message())
        if mode == "lexical" and not use_lexical:
            return SearchResults([], 0, mode=mode, highlight_terms=parsed.highlight_terms,
                                 message="; ".join(notes) or "nothing to match")

        candidates: dict[int, Candidate] = {}
        if use_lexical:
            behind = self.lexical.lag_note()  # reads a counter; a search never indexes
            if behind:
                notes.append(behind)
        concurrent = use_lexical and use_dense
        # The filter's doc-id mask (date/category columns in memory, recent filters' masks
        # cached; authors from the database) serves the vector search and, on tantivy, the
        # keyword one.
        filter_mask = None
        if flt is not None and (use_dense or self.lexical.postfilters):
            filter_mask = self._mask(flt)
        # Hybrid searches time their parts per kind of search, to choose their order.
        kind = (work_kind(None if filter_mask is None else len(filter_mask), self.vectors.size)
                if concurrent else None)
        lex_job = None
        if use_lexical:
            # Hybrid reads a deeper keyword list (about as cheap: the index ranks the same
            # postings): candidates found by meaning take their keyword score from it.
            lex_depth = max(depth, LEXICAL_POOL) if use_dense else depth

            started_keywords = threading.Event()

            def search_keywords():
                started_keywords.set()
                started = time.perf_counter()
                found = self.lexical.search(parsed.terms, parsed.phrases, flt, lex_depth,
                                            allowed=filter_mask, required=depth)
                if kind is not None:
                    self.schedule.saw_keywords(1000 * (time.perf_counter() - started), kind)
                return found

            if not concurrent:
                self._add_lexical(candidates, search_keywords(), depth)
        qvec = None
        if use_dense:
            # The keyword index releases the GIL: in hybrid searches it ranks on one core
            # beside the query's embedding or beside the vector search, whichever the
            # schedule (paperboy.search.schedule) expects to finish first.
            together = concurrent and self.schedule.keywords_beside_embedding(kind)
            if together:
                lex_job = self._pool().submit(search_keywords)
            started = time.perf_counter()
            qvec = self.embedder.embed_one(parsed.text or " ".join(parsed.highlight_terms),
                                           single_thread=together)
            self.schedule.saw_embedding(1000 * (time.perf_counter() - started), together)
            if concurrent and not together:
                lex_job = self._pool().submit(search_keywords)
                # usearch holds the GIL while it searches: let the keyword thread reach
                # tantivy (which releases it) first, or it would wait for the vector search.
                started_keywords.wait(0.005)
            allowed = filter_mask
            if parsed.phrases:
                must = self.lexical.phrase_doc_ids(parsed.phrases)
                allowed = must if allowed is None else np.intersect1d(allowed, must)
            started = time.perf_counter()
            ids, sims = self.vectors.search(qvec, depth, allowed=allowed)
            if kind is not None:
                self.schedule.saw_vectors(1000 * (time.perf_counter() - started), kind)
            for rank, (doc_id, sim) in enumerate(zip(ids.tolist(), sims.tolist()), 1):
                c = candidates.setdefault(doc_id, Candidate(doc_id))
                c.dense, c.dense_rank = float(sim), rank
        if lex_job is not None:
            self._add_lexical(candidates, lex_job.result(), depth)
        if use_lexical and use_dense:
            # Every candidate gets both scores: similarities for the ones found by keywords
            # (from their stored vectors); keyword scores came with the deeper keyword list.
            missing = [c.doc_id for c in candidates.values() if c.dense is None]
            for doc_id, v in self.vectors.vectors(missing).items():
                candidates[doc_id].dense = float(v @ qvec)
        method = self.fusion if (use_lexical and use_dense) else ("lexical" if use_lexical else "dense")
        if method == "lexical":
            ranked = sorted(candidates.values(), key=lambda c: -(c.lexical or 0.0))
            for c in ranked:
                c.fused = c.lexical or 0.0
        elif method == "dense":
            ranked = sorted(candidates.values(), key=lambda c: -(c.dense or 0.0))
            for c in ranked:
                c.fused = c.dense or 0.0
        else:
            ranked = fuse(candidates, method, self.alpha)

        page, total = self._visible_page(ranked, offset, limit)
        hits = []
        for c, paper in page:
            explanation = {
                "method": method,
                "lexical_rank": c.lexical_rank,
                "lexical_score": None if c.lexical is None else round(c.lexical, 4),
                "dense_rank": c.dense_rank,
                "dense_similarity": None if c.dense is None else round(c.dense, 4),
                "matched_terms": [],
                "phrases": [" ".join(p) for p in parsed.phrases],
            }
            hits.append(Hit(paper.id, round(float(c.fused), 6), explanation, paper=paper))
        if parsed.terms and explain:
            found = matched_terms({h.id: f"{h.paper.title}\n{h.paper.abstract}" for h in hits},
                                  parsed.terms)
            for h in hits:
                h.explanation["matched_terms"] = found[h.id]
        return SearchResults(hits, total, mode=mode,
                             highlight_terms=parsed.highlight_terms,
                             message="; ".join(notes) or None)

    def _visible_page(self, ranked: list[Candidate], offset: int, limit: int
                      ) -> tuple[list[tuple[Candidate, Paper]], int]:
        """The requested page of (candidate, paper), hidden papers skipped, and the total.

        Only as many candidates as the page needs are looked up (hidden papers are rare), so
        the cost does not grow with the candidate depth; the total counts the candidates
        beyond the page as visible. (Papers of an earlier page are read too: deep pages are
        rare, and one query is cheaper than two.)"""
        need = offset + limit
        visible: list[tuple[Candidate, Paper]] = []
        pos = hidden = 0
        while len(visible) < need and pos < len(ranked):
            chunk = ranked[pos:pos + need - len(visible) + 8]
            found = self.repo.visible_papers([c.doc_id for c in chunk])
            for c in chunk:
                if c.doc_id in found:
                    visible.append((c, found[c.doc_id]))
                else:
                    hidden += 1
            pos += len(chunk)
        return visible[offset:need], len(ranked) - hidden

    @staticmethod
    def _add_lexical(candidates: dict[int, Candidate], ranked: list[tuple[int, float]],
                     depth: int) -> None:
        """The top ``depth`` become candidates; the rest only score candidates found by meaning
        (a paper outside the keyword list scores 0 there)."""
        found_by_meaning = list(candidates)
        for rank, (doc_id, score) in enumerate(ranked[:depth], 1):
            c = candidates.get(doc_id)
            if c is None:
                c = candidates[doc_id] = Candidate(doc_id)
            c.lexical, c.lexical_rank = score, rank
        if len(ranked) > depth and found_by_meaning:
            rank_of = dict(zip([d for d, _ in ranked], range(1, len(ranked) + 1)))
            for doc_id in found_by_meaning:
                c = candidates[doc_id]
                rank = rank_of.get(doc_id)
                if rank is not None and c.lexical is None:
                    c.lexical, c.lexical_rank = ranked[rank - 1][1], rank

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
            # Also as soon as the keyword index has seen the store change (tantivy): the
            # keyword side filters with this mask too, and must not miss what it can find.
            head = self._lexical.head if self._lexical is not None else None
            if now - self._facets_at > REFRESH_EVERY or head != self._facets_head:
                self._facets.refresh()
                self._facets_at, self._facets_head = now, head
            allowed = self._facets.mask(flt.since, flt.until, flt.categories)
        people = self.repo.people_doc_ids(flt)
        if people is not None:
            allowed = people if allowed is None else np.intersect1d(allowed, people, assume_unique=True)
        return allowed if allowed is not None else self.repo.filter_doc_ids(flt)

    def _hydrate(self, hits: list[Hit]) -> list[Hit]:
        papers = {p.id: p for p in self.store.papers.get_many([h.id for h in hits])}
        out = []
        for h in hits:
            h.paper = papers.get(h.id)
            if h.paper is not None:
                out.append(h)
        return out

    # -- similar ----------------------------------------------------------------------------

    def similar(self, paper_id: str, k: int = 10, since: date | None = None,
                until: date | None = None) -> list[Hit]:
        """Nearest papers by meaning, the paper itself excluded, optionally in a date window."""
        k = max(1, min(int(k), 200))
        doc_id = self.repo.doc_ids([paper_id]).get(paper_id)
        if doc_id is None:
            raise NotFound(f"no paper {paper_id} in the store")
        vec = self.vectors.vector(doc_id)
        if vec is None:
            paper = self.store.papers.get(paper_id)
            from paperboy.storage.search_index import embed_text

            vec = self.embedder.embed_one(embed_text(paper.title, paper.abstract))
        if self.vectors.size == 0:
            return []
        window = SearchFilters(since=since, until=until)
        allowed = None if window.is_empty() else self._mask(window)
        ids, sims = self.vectors.search(vec, k + 10, allowed=allowed, exclude=doc_id)
        visible = self.repo.visible_papers(ids.tolist())
        hits = [Hit(visible[d].id, round(float(s), 6), {"dense_similarity": round(float(s), 4),
                                                        "dense_rank": rank}, paper=visible[d])
                for rank, (d, s) in enumerate(zip(ids.tolist(), sims.tolist()), 1) if d in visible]
        return hits[:k]

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
