"""The in-process vector index: a cache of the ``embeddings`` table for one model.

Small collections are searched exactly (one float32 matrix product, ids kept sorted so filter
masks are a ``searchsorted`` away). Past ``HNSW_THRESHOLD`` vectors the index switches to a
usearch HNSW graph with int8 (or f16) scalars, a quarter (half) of the memory, saved next to the
database so a restart loads it instead of re-reading every vector. Beside the graph the same
vectors are kept as int8 rows sorted by doc id (paperboy.search.int8rows): a filter narrow
enough is scored exactly from them, a wide one over-fetches from the graph, whichever the
measured costs say is cheaper.

The saved index carries the model name, the dimension, a format version and the last embedding
``seq`` it holds; on load anything newer is read from the database and added, and a different
model or format is rebuilt from the table (the table itself is re-embedded by ``paperboy embed``
when the model changes). Files are written to a temporary name and renamed, so a crash never
leaves half an index.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np

from paperboy.search.int8rows import Int8Rows
from paperboy.storage.search_index import SearchIndexRepository

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
#: Above this many vectors, serve from HNSW (usearch) instead of an exact scan (RESULTS.md,
#: "Search speed").
HNSW_THRESHOLD = 50_000
#: Costs behind the choice between scoring a filter's papers directly (int8 rows) and
#: over-fetching from the graph (per fetched neighbour, fetching FILTER_OVERFETCH x what the
#: filter's share of the papers predicts), in microseconds, measured at 1M papers.
EXACT_ROW_US = 0.45
GRAPH_FETCH_US = 4.0
FILTER_OVERFETCH = 1.3
#: Exact-mode vectors are saved to a file from this many (a new process loads the file instead
#: of reading each vector from the database: see RESULTS.md "Issue 16", CLI start-up).
EXACT_SAVE_FROM = 2_000
#: Seconds between rewrites of the saved graph while vectors keep arriving (a restart reads the
#: newer vectors from the database anyway); ``save()`` itself always writes.
SAVE_EVERY = 600.0


def _usearch_index():
    """usearch's Index class. onnxruntime must be loaded first: importing onnxruntime after
    usearch 2.26 (its numkong extension) crashes the interpreter with a segmentation fault."""
    import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def _slug(model: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in model)[-80:]


class VectorIndex:
    """Nearest neighbours by cosine similarity over the stored vectors of ``model``."""

    def __init__(self, repo: SearchIndexRepository, model: str, directory: Path | None = None,
                 hnsw_threshold: int = HNSW_THRESHOLD, dtype: str = "i8"):
        self.repo = repo
        self.model = model
        self.directory = Path(directory) if directory else None
        self.hnsw_threshold = hnsw_threshold
        self.dtype = dtype
        self.last_seq = 0
        self.ids = np.zeros(0, dtype=np.int64)           # exact mode: sorted doc ids
        self.matrix = np.zeros((0, 0), dtype=np.float32)  # exact mode: rows match ids
        self.hnsw = None                                  # usearch.index.Index when large
        self.rows: Int8Rows | None = None                 # with the graph: for filters
        self._saved_at: float | None = None  # monotonic time of the last save
        self.dim = 0
        self._lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.hnsw) if self.hnsw is not None else len(self.ids)

    @property
    def path(self) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"vectors-{_slug(self.model)}.usearch"

    def refresh(self) -> int:
        """Take in vectors written since the last refresh; returns how many were added."""
        with self._lock:
            if self.hnsw is None and self.last_seq == 0 and self.path:
                if self.path.is_file():
                    self._load_file()
                elif self.exact_path.is_file():
                    self._load_exact()
            pending = self.repo.count_vectors(self.model, self.last_seq)
            if pending == 0:
                return 0
            added = 0
            id_parts, mat_parts = [], []
            for doc_ids, mat, last in self.repo.iter_vectors(self.model, self.last_seq):
                if self.dim and mat.shape[1] != self.dim:
                    raise ValueError(f"vectors of dimension {mat.shape[1]} in an index of {self.dim}")
                self.dim = mat.shape[1]
                if self.hnsw is None and len(self.ids) + pending > self.hnsw_threshold:
                    self._to_hnsw()
                if self.hnsw is not None:
                    self._add_hnsw(doc_ids, mat)
                else:
                    id_parts.append(doc_ids)
                    mat_parts.append(mat)
                self.last_seq = last
                added += len(doc_ids)
            if id_parts:
                self._add_exact(np.concatenate(id_parts), np.vstack(mat_parts))
            if added and (self.hnsw is not None or len(self.ids) >= EXACT_SAVE_FROM) and (
                    self._saved_at is None or time.monotonic() - self._saved_at > SAVE_EVERY):
                self.save()
            return added

    def _add_hnsw(self, doc_ids: np.ndarray, mat: np.ndarray) -> None:
        keys = doc_ids.astype(np.uint64)
        present = self.hnsw.contains(keys)
        if np.any(present):
            self.hnsw.remove(keys[present])
        self.hnsw.add(keys, np.ascontiguousarray(mat, dtype=np.float32),
                      threads=os.cpu_count() or 1)
        self.rows.upsert(doc_ids, mat)

    def _add_exact(self, doc_ids: np.ndarray, mat: np.ndarray) -> None:
        # The newest vector of a doc wins (batches come in seq order).
        _, last_pos = np.unique(doc_ids[::-1], return_index=True)
        keep_new = len(doc_ids) - 1 - last_pos
        doc_ids, mat = doc_ids[keep_new], mat[keep_new]
        if len(self.ids):
            keep = ~np.isin(self.ids, doc_ids)
            ids = np.concatenate([self.ids[keep], doc_ids])
            matrix = np.vstack([self.matrix[keep], mat])
        else:
            ids, matrix = doc_ids, np.array(mat, dtype=np.float32)
        order = np.argsort(ids, kind="stable")
        self.ids, self.matrix = ids[order], np.ascontiguousarray(matrix[order])

    def _new_hnsw(self):
        Index = _usearch_index()

        return Index(ndim=self.dim, metric="cos", dtype=self.dtype, connectivity=16,
                     expansion_add=128, expansion_search=200)

    def _to_hnsw(self) -> None:
        index = self._new_hnsw()
        self.rows = Int8Rows(self.dim)
        if len(self.ids):
            index.add(self.ids.astype(np.uint64), self.matrix, threads=os.cpu_count() or 1)
            self.rows.upsert(self.ids, self.matrix)
        self.hnsw = index
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)

    def _meta(self) -> dict:
        return {"format": INDEX_FORMAT, "model": self.model, "dim": self.dim,
                "dtype": self.dtype, "last_seq": self.last_seq, "count": self.size}

    @property
    def rows_path(self) -> Path:
        return self.path.with_suffix(".rows.npz")

    @property
    def exact_path(self) -> Path:
        return self.path.with_suffix(".exact.npy")

    def _save_exact(self) -> None:
        """The exact-mode matrix with its ids and metadata in one file, written atomically: a
        new process (a CLI search) loads it instead of reading every vector from the database."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.exact_path.with_name(f".{self.exact_path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.frombuffer(json.dumps(self._meta()).encode(), dtype=np.uint8))
            np.save(fh, self.ids)
            np.save(fh, self.matrix)
        tmp.replace(self.exact_path)

    def _load_exact(self) -> None:
        try:
            with open(self.exact_path, "rb") as fh:
                meta = json.loads(np.load(fh).tobytes())
                ids, matrix = np.load(fh), np.load(fh)
        except (OSError, ValueError):
            return
        if meta.get("format") != INDEX_FORMAT or meta.get("model") != self.model \
                or len(ids) != len(matrix):
            return  # another model or format: read from the table
        self.ids, self.matrix = ids, matrix
        self.dim, self.last_seq = int(meta["dim"]), int(meta["last_seq"])
        self._saved_at = time.monotonic()

    def save(self) -> None:
        """Write the HNSW index, its int8 rows and its metadata atomically (exact mode: the
        matrix, from ``EXACT_SAVE_FROM`` vectors). The metadata goes last: rows or a graph of
        another seq are rebuilt on load."""
        if self.path is None:
            return
        if self.hnsw is None:
            if len(self.ids) >= EXACT_SAVE_FROM:
                self._saved_at = time.monotonic()
                self._save_exact()
            return
        self._saved_at = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows.last_seq = self.last_seq
        self.rows.save(self.rows_path)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.hnsw.save(str(tmp))
        meta_tmp = tmp.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(self._meta()))
        tmp.replace(self.path)
        meta_tmp.replace(self.path.with_suffix(".json"))

    def _load_file(self) -> None:
        meta_path = self.path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return
        if meta.get("format") != INDEX_FORMAT or meta.get("model") != self.model:
            return  # another model or format: rebuilt from the table
        self.dim = int(meta["dim"])
        self.dtype = meta.get("dtype", self.dtype)
        index = self._new_hnsw()
        index.load(str(self.path))
        self.hnsw = index
        self.last_seq = int(meta["last_seq"])
        self._saved_at = time.monotonic()
        rows = Int8Rows.load(self.rows_path, self.dim)
        if rows is None or rows.last_seq != self.last_seq:
            log.info("rebuilding the filter rows of %s from its graph", self.path.name)
            rows = Int8Rows(self.dim)
            keys = np.sort(np.asarray(index.keys, dtype=np.int64))
            for start in range(0, len(keys), 50_000):
                part = keys[start:start + 50_000]
                rows.upsert(part, np.asarray(index.get(part.astype(np.uint64)), dtype=np.float32))
            rows.last_seq = self.last_seq
            try:
                rows.save(self.rows_path)
            except OSError as exc:
                log.warning("could not save %s: %s", self.rows_path, exc)
        self.rows = rows

    def clear(self) -> None:
        with self._lock:
            self.hnsw = None
            self.rows = None
            self.ids = np.zeros(0, dtype=np.int64)
            self.matrix = np.zeros((0, 0), dtype=np.float32)
            self.last_seq = 0
            if self.path is not None:
                for p in (self.path, self.path.with_suffix(".json"), self.rows_path,
                          self.exact_path):
                    p.unlink(missing_ok=True)

    # -- search -----------------------------------------------------------------------------

    def vector(self, doc_id: int) -> np.ndarray | None:
        if self.hnsw is not None:
            pos = self.rows.positions(np.array([doc_id]))
            return self.rows.rows(pos)[0] if len(pos) else None
        pos = np.searchsorted(self.ids, doc_id)
        if pos < len(self.ids) and self.ids[pos] == doc_id:
            return self.matrix[pos]
        return None

    def vectors(self, doc_ids) -> dict[int, np.ndarray]:
        """doc id -> unit vector for the documents that have one (the same interface as the
        PostgreSQL index, which answers it in one query)."""
        out = {}
        if self.hnsw is not None:
            pos = self.rows.positions(np.asarray(list(doc_ids), dtype=np.int64))
            return dict(zip(self.rows.ids[pos].tolist(), self.rows.rows(pos)))
        for doc_id in doc_ids:
            v = self.vector(doc_id)
            if v is not None:
                out[int(doc_id)] = v
        return out

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, cosine similarities), best first; ``allowed`` is a sorted doc-id mask."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.hnsw is not None:
            return self._search_hnsw(query, k, allowed, exclude)
        if allowed is not None:
            pos = np.searchsorted(self.ids, allowed)
            valid = pos < len(self.ids)
            pos = pos[valid]
            pos = pos[self.ids[pos] == allowed[valid]]
            ids, mat = self.ids[pos], self.matrix[pos]
        else:
            ids, mat = self.ids, self.matrix
        if exclude is not None:
            keep = ids != exclude
            ids, mat = ids[keep], mat[keep]
        return _best(ids, mat @ query, k)

    def _search_hnsw(self, query, k, allowed, exclude):
        want = k + (1 if exclude is not None else 0)
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            # Over-fetch in proportion to the share of papers the filter lets through.
            fetch = int(FILTER_OVERFETCH * want * self.size / len(allowed)) + want
            if EXACT_ROW_US * len(allowed) <= GRAPH_FETCH_US * min(fetch, self.size):
                return self._search_rows(query, k, allowed, exclude)
        else:
            fetch = want
        fetch = min(self.size, fetch)
        while True:
            matches = self.hnsw.search(query, fetch)
            keys = np.asarray(matches.keys, dtype=np.int64)
            sims = 1.0 - np.asarray(matches.distances, dtype=np.float32)
            keep = np.ones(len(keys), dtype=bool)
            if exclude is not None:
                keep &= keys != exclude
            if allowed is not None:  # sorted: a binary search per hit (np.isin hashes all)
                pos = np.minimum(np.searchsorted(allowed, keys), len(allowed) - 1)
                keep &= allowed[pos] == keys
            if keep.sum() >= k or fetch >= self.size:
                return keys[keep][:k], sims[keep][:k]
            fetch = min(self.size, fetch * 4)

    def _search_rows(self, query, k, allowed, exclude):
        """Exact top ``k`` among the allowed papers, from the int8 rows."""
        pos = self.rows.positions(allowed)
        if exclude is not None:
            pos = pos[self.rows.ids[pos] != exclude]
        return _best(self.rows.ids[pos], self.rows.scores(pos, query), k)


def _best(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest-scoring (ids, scores), best first (ties in input order)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    k = min(k, len(ids))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return ids[top], scores[top]
