"""Every vector of a large index as int8 rows sorted by doc id, for filtered searches.

An HNSW graph answers "nearest of all"; with a filter it can only over-fetch and drop what the
filter rejects, which gets slow as the filter narrows. Scoring the allowed rows directly costs
a fixed small amount per row (``EXACT_ROW_US`` in :mod:`paperboy.search.vectors`), so a
narrow filter is answered exactly from these rows and a wide one from the graph (see
``VectorIndex._search_hnsw``). One byte per dimension, each row scaled so its largest magnitude
maps to 127 (the scale itself is not needed: similarities are cosines, so each row keeps the
inverse norm of its codes instead): 388 MB for 1M MiniLM vectors.

Saved next to the graph as one ``.npz`` (written to a temporary name, then renamed) with the
embedding ``seq`` it holds, so a restart loads it instead of reading 1M vectors back out of the
graph.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: Rows scored per matrix product (keeps the float32 copy of a chunk ~6 MB).
CHUNK = 4096


def quantize(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes, float32 inverse norms of the codes): ``codes * inv[:, None]`` is the unit
    vector of each row, to within the rounding."""
    mat = np.asarray(mat, dtype=np.float32)
    peak = np.max(np.abs(mat), axis=1) if len(mat) else np.zeros(0, dtype=np.float32)
    scale = np.where(peak > 0, 127.0 / np.maximum(peak, 1e-30), 0.0).astype(np.float32)
    codes = np.clip(np.rint(mat * scale[:, None]), -127, 127).astype(np.int8)
    norms = np.linalg.norm(codes.astype(np.float32), axis=1)
    return codes, (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)


class Int8Rows:
    """Sorted doc ids with their int8 rows; ``upsert`` keeps the newest row of a doc."""

    def __init__(self, dim: int):
        self.dim = dim
        self.ids = np.zeros(0, dtype=np.int64)
        self.codes = np.zeros((0, dim), dtype=np.int8)
        self.inv = np.zeros(0, dtype=np.float32)
        self.last_seq = 0

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, doc_ids: np.ndarray, mat: np.ndarray) -> None:
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        # Within a batch the later row of a doc wins (batches come in seq order).
        _, last = np.unique(doc_ids[::-1], return_index=True)
        pick = len(doc_ids) - 1 - last
        doc_ids, (codes, inv) = doc_ids[pick], quantize(np.asarray(mat)[pick])
        if len(self.ids):
            pos = np.minimum(np.searchsorted(self.ids, doc_ids), len(self.ids) - 1)
            hit = self.ids[pos] == doc_ids
            if hit.any():  # re-embedded papers: overwrite in place
                self.codes[pos[hit]] = codes[hit]
                self.inv[pos[hit]] = inv[hit]
                doc_ids, codes, inv = doc_ids[~hit], codes[~hit], inv[~hit]
        if not len(doc_ids):
            return
        if not len(self.ids) or doc_ids.min() > self.ids[-1]:  # the usual case: new papers
            self.ids = np.concatenate([self.ids, doc_ids])
            self.codes = np.concatenate([self.codes, codes])
            self.inv = np.concatenate([self.inv, inv])
            return
        ids = np.concatenate([self.ids, doc_ids])
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        self.codes = np.concatenate([self.codes, codes])[order]
        self.inv = np.concatenate([self.inv, inv])[order]

    def positions(self, doc_ids: np.ndarray) -> np.ndarray:
        """Row positions of those of ``doc_ids`` that have a row (in the given order)."""
        if not len(self.ids):
            return np.zeros(0, dtype=np.int64)
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, doc_ids), len(self.ids) - 1)
        return pos[self.ids[pos] == doc_ids]

    def rows(self, pos: np.ndarray) -> np.ndarray:
        """Unit float32 vectors of the rows at ``pos``."""
        return self.codes[pos].astype(np.float32) * self.inv[pos, None]

    def scores(self, pos: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of ``query`` (unit) with the rows at ``pos``."""
        out = np.empty(len(pos), dtype=np.float32)
        for start in range(0, len(pos), CHUNK):
            p = pos[start:start + CHUNK]
            out[start:start + CHUNK] = (self.codes[p].astype(np.float32) @ query) * self.inv[p]
        return out

    # -- files ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, ids=self.ids, codes=self.codes, inv=self.inv,
                 last_seq=np.int64(self.last_seq))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, dim: int) -> "Int8Rows | None":
        """The saved rows, or None when missing or unreadable (then rebuilt)."""
        try:
            with np.load(path) as data:
                rows = cls(dim)
                rows.ids, rows.codes = data["ids"], data["codes"]
                rows.inv, rows.last_seq = data["inv"], int(data["last_seq"])
        except (OSError, ValueError, KeyError):
            return None
        if rows.codes.shape[1:] != (dim,) or not (len(rows.ids) == len(rows.codes) == len(rows.inv)):
            return None
        return rows
