"""The vector index on PostgreSQL: pgvector HNSW, queried in SQL, one index for every process.

Same interface as :class:`paperboy.search.vectors.VectorIndex` (``size``, ``refresh``,
``search``, ``vector``, ``save``, ``clear``), so the search service does not care which one it
has; :func:`vector_index` picks it when the store is PostgreSQL with the pgvector extension.
Nothing is held in the process but a count: the vectors, and the HNSW graph over them, live in
the database (paperboy.storage.pgvector), kept current by the same transaction that stores the
embeddings, so web workers on any host see a new vector as soon as it is committed.

Search strategy (pgvector 0.6: no iterative index scans, so a filter cannot be pushed into the
HNSW scan without losing results):

* no filter: HNSW with ``hnsw.ef_search`` 200 (raised to k), or an exact scan while the model has
  fewer than ``exact_below`` vectors (exact costs a few ms there) or when k exceeds what one
  HNSW scan can return (1000);
* a filter: HNSW, over-fetching by the inverse of the filter's share of the collection and
  post-filtered here, when one scan (at most 1000 rows) is expected to leave k and scanning the
  allowed vectors exactly would cost more (more than ``EXACT_PER_FETCH`` allowed ids per row
  fetched, and more than ``EXACT_FILTER_MAX``); otherwise, or when fewer than k survive, an
  exact scan of just the allowed vectors (its cost grows with their number, reaching a full
  scan's once the filter holds about a fifth of the collection).

Scores are cosine similarities (1 - cosine distance), as from the in-process index.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np

from paperboy.search.vectors import VectorIndex
from paperboy.storage.pgvector import HNSW_MIN_ROWS, MAX_EF_SEARCH
from paperboy.storage.search_index import SearchIndexRepository

#: Filters up to this many doc ids are always scored exactly (cheap: one lookup per id).
EXACT_FILTER_MAX = 1_000
#: An exact scan of the allowed ids is preferred while they number at most this many per row an
#: over-fetching HNSW scan would need (benchmarks/RESULTS.md, "Issue 17").
EXACT_PER_FETCH = 4
#: Below this many vectors every query is an exact scan (the table has no graph yet either).
EXACT_BELOW = HNSW_MIN_ROWS
EF_SEARCH = 200
#: A large table is recounted at most this often (count(*) reads its whole primary key).
LARGE_TABLE = 200_000
RECOUNT_EVERY = 60.0


def vector_index(repo: SearchIndexRepository, model: str, directory: Path | None = None):
    """The vector index for this store: pgvector on PostgreSQL (when the database has the
    extension), the in-process exact/usearch index otherwise."""
    if repo.dialect == "postgresql" and repo.pgvector.available():
        return PgVectorIndex(repo, model)
    return VectorIndex(repo, model, directory)


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


class PgVectorIndex:
    """Nearest neighbours by cosine similarity over the model's pgvector table."""

    def __init__(self, repo: SearchIndexRepository, model: str,
                 exact_below: int = EXACT_BELOW, ef_search: int = EF_SEARCH):
        self.repo = repo
        self.db = repo.pgvector
        self.model = model
        self.exact_below = exact_below
        self.ef_search = ef_search
        self.count = 0
        self.last_seq = 0
        self._rebuild = False
        self._counted_at = 0.0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return self.count

    def refresh(self) -> int:
        """Catch up with the database: make the model's table when vectors were stored before
        it existed (an upgrade), rebuild it after :meth:`clear`, and recount when anything was
        written. Returns how many vectors appeared since the last refresh."""
        with self._lock:
            if self._rebuild:
                self._rebuild = False
                self.last_seq = self.repo.max_seq(self.model)
                before, self.count = self.count, self.db.rebuild(self.model)
                return max(self.count - before, 0)
            seq = self.repo.max_seq(self.model)
            if seq == self.last_seq:
                return 0
            if self.count >= LARGE_TABLE and time.monotonic() - self._counted_at < RECOUNT_EVERY:
                return 0  # counted again later; new vectors are searchable already
            if self.db.table(self.model) is None:  # vectors stored before the table existed
                dim = self._stored_dim()
                if dim:
                    self.db.ensure_table(self.model, dim)
            before = self.count
            self.count = self.db.count(self.model)
            self._counted_at = time.monotonic()
            self.last_seq = seq
            return max(self.count - before, 0)

    def _stored_dim(self) -> int:
        for _, mat, _ in self.repo.iter_vectors(self.model, batch=1):
            return int(mat.shape[1])
        return 0

    def save(self) -> None:
        """Nothing to save: the index lives in the database."""

    def clear(self) -> None:
        """The next :meth:`refresh` re-derives the table (and its index) from ``embeddings``."""
        with self._lock:
            self._rebuild = True
            self.count = 0
            self.last_seq = 0

    # -- search -----------------------------------------------------------------------------

    def vector(self, doc_id: int) -> np.ndarray | None:
        return self.db.vector(self.model, doc_id)

    def vectors(self, doc_ids) -> dict[int, np.ndarray]:
        """doc id -> vector for many documents in one query."""
        return self.db.vectors(self.model, doc_ids)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, cosine similarities), best first; ``allowed`` is a sorted doc-id mask."""
        if self.size == 0 or k <= 0:
            return _empty()
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        want = k + (1 if exclude is not None else 0)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) == 0:
                return _empty()
            if len(allowed) <= EXACT_FILTER_MAX or self.size < self.exact_below:
                return self._finish(*self.db.exact(self.model, query, want, allowed), k, exclude)
            share = min(1.0, len(allowed) / max(self.size, 1))
            fetch = min(MAX_EF_SEARCH, max(want * 2, math.ceil(want / share * 1.5) + 10))
            if fetch * share >= want and len(allowed) > EXACT_PER_FETCH * fetch:
                ids, dists = self.db.nearest(self.model, query, fetch, self.ef_search)
                pos = np.searchsorted(allowed, ids)
                keep = allowed[np.minimum(pos, len(allowed) - 1)] == ids
                if exclude is not None:
                    keep &= ids != exclude
                if keep.sum() >= k:
                    return self._finish(ids[keep], dists[keep], k, None)
            return self._finish(*self.db.exact(self.model, query, want, allowed), k, exclude)
        if self.size < self.exact_below or want > MAX_EF_SEARCH:
            return self._finish(*self.db.exact(self.model, query, want), k, exclude)
        return self._finish(*self.db.nearest(self.model, query, want, self.ef_search), k, exclude)

    @staticmethod
    def _finish(ids: np.ndarray, dists: np.ndarray, k: int, exclude: int | None):
        if exclude is not None:
            keep = ids != exclude
            ids, dists = ids[keep], dists[keep]
        return ids[:k], (1.0 - dists[:k]).astype(np.float32)
