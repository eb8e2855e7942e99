"""What the ranking model sees of a paper: its tf-idf words and its stored MiniLM vector.

The tf-idf :class:`Vocabulary` is fitted once on a corpus of the store's papers and shared by
every reader's model (a model's text weights are indexed by the vocabulary's terms, so a model
is only valid with the vocabulary it was fitted with: :attr:`Vocabulary.fingerprint`). Its
settings follow arxiv-sanity-lite's ``compute.py`` (word unigrams and bigrams, English stop
words, sublinear tf, l2 rows), which is the named baseline of issue 13.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from paperboy.recommend.codec import pack, unpack

#: the MiniLM vector size, used when no item or vocabulary says otherwise
DEFAULT_DIM = 384
_FORMAT = 1
#: tf-idf rows kept per vocabulary (~0.5 kB each): the papers of the days being ranked and
#: the readers' signals are transformed once, not at every refit
CACHE_ROWS = 100_000
#: words: a letter or underscore, then letters, digits or underscores (no bare numbers)
TOKEN_PATTERN = r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b"


@dataclass(frozen=True)
class Item:
    """One paper as the model sees it."""

    paper_id: str
    #: title + " " + abstract (may be empty)
    text: str
    #: the stored unit-norm MiniLM vector (float32), ``None`` when not embedded yet
    vector: np.ndarray | None = None


def _vectorizer(terms: dict | None, ngrams: int, min_df, max_df, max_features):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        input="content", strip_accents="unicode", lowercase=True, analyzer="word",
        stop_words="english", token_pattern=TOKEN_PATTERN, ngram_range=(1, ngrams),
        max_features=max_features, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True,
        min_df=min_df, max_df=max_df, vocabulary=terms, dtype=np.float32)


class Vocabulary:
    """Shared text features: a fitted tf-idf vocabulary (terms, idf) and the corpus mean vector.

    Build with :meth:`fit`; persist with :meth:`to_bytes` / :meth:`from_bytes`.
    """

    def __init__(self, terms: Sequence[str], idf: np.ndarray, *, ngrams: int = 2,
                 vector_mean: np.ndarray | None = None):
        self.terms = tuple(terms)
        self.idf = np.asarray(idf, dtype=np.float32)
        if len(self.terms) != len(self.idf):
            raise ValueError(f"vocabulary: {len(self.terms)} terms but {len(self.idf)} idf values")
        self.ngrams = int(ngrams)
        self.vector_mean = (None if vector_mean is None
                            else np.asarray(vector_mean, dtype=np.float32).ravel())
        self._vectorizer = None
        #: paper id -> (hash of its text, packed tf-idf row): see :meth:`rows`
        self._rows: dict[str, tuple[int, bytes]] = {}
        self.cache_size = CACHE_ROWS
        digest = hashlib.sha256(json.dumps([self.ngrams, self.terms]).encode("utf-8"))
        digest.update(self.idf.tobytes())
        if self.vector_mean is not None:
            digest.update(self.vector_mean.tobytes())
        #: changes whenever the features would: a model fitted on another vocabulary is refused
        self.fingerprint = digest.hexdigest()[:16]

    # -- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, texts: Sequence[str], vectors: np.ndarray | Sequence | None = None, *,
            max_features: int = 20000, min_df: int | None = None, max_df: float = 0.5,
            ngrams: int = 2) -> Vocabulary:
        """Fit on a corpus of papers' texts (title + abstract), e.g. the store's recent papers.

        ``vectors``: the same papers' stored vectors (rows may be ``None``); their mean centres
        the vector features so that a paper without a vector scores as an average one.
        ``min_df`` defaults to 5 documents (arxiv-sanity-lite), fewer on a small corpus so a
        fresh instance with a few dozen papers still gets words.
        """
        texts = [t or "" for t in texts]
        n = len(texts)
        if min_df is None:
            min_df = 5 if n >= 1000 else 2 if n >= 50 else 1
        if n < 20:
            max_df = 1.0  # a tiny corpus: every word is "frequent"
        terms: list[str] = []
        idf = np.zeros(0, dtype=np.float32)
        if any(t.strip() for t in texts):
            vec = _vectorizer(None, ngrams, min_df, max_df, max_features)
            try:
                vec.fit(texts)
                terms = vec.get_feature_names_out().tolist()
                idf = vec.idf_.astype(np.float32)
            except ValueError:  # nothing left after stop words / pruning: no text features
                terms, idf = [], np.zeros(0, dtype=np.float32)
        mean = None
        if vectors is not None:
            rows = [np.asarray(v, dtype=np.float32) for v in vectors if v is not None]
            if rows:
                mean = np.mean(np.stack(rows), axis=0)
        return cls(terms, idf, ngrams=ngrams, vector_mean=mean)

    # -- features ---------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.terms)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """l2-normalized tf-idf rows, shape ``(len(texts), size)``, float32."""
        if not self.terms or not len(texts):
            return sp.csr_matrix((len(texts), self.size), dtype=np.float32)
        if self._vectorizer is None:
            vec = _vectorizer({t: i for i, t in enumerate(self.terms)}, self.ngrams, 1, 1.0, None)
            vec.idf_ = self.idf
            self._vectorizer = vec
        return self._vectorizer.transform([t or "" for t in texts]).tocsr()

    def rows(self, items: Sequence[Item]) -> sp.csr_matrix:
        """:meth:`transform` of the items' texts, remembering each paper's row (a refit after
        one new signal transforms one text, not the reader's thousand)."""
        packed: list[tuple[bytes, bytes] | None] = []
        missing = []
        for i, it in enumerate(items):
            known = self._rows.get(it.paper_id)
            packed.append(known[1] if known is not None and known[0] == hash(it.text) else None)
            if packed[-1] is None:
                missing.append(i)
        if missing:
            fresh = self.transform([items[i].text for i in missing])
            if len(self._rows) + len(missing) > self.cache_size:  # forget the oldest half
                for key in list(self._rows)[:len(self._rows) // 2 + len(missing)]:
                    self._rows.pop(key, None)  # another thread may have dropped it
            for row_at, i in enumerate(missing):
                lo, hi = fresh.indptr[row_at], fresh.indptr[row_at + 1]
                packed[i] = (fresh.indices[lo:hi].astype(np.int32).tobytes(),
                             fresh.data[lo:hi].astype(np.float32).tobytes())
                self._rows[items[i].paper_id] = (hash(items[i].text), packed[i])
        indices = np.frombuffer(b"".join(p[0] for p in packed), dtype=np.int32)
        data = np.frombuffer(b"".join(p[1] for p in packed), dtype=np.float32)
        lengths = np.fromiter((len(p[0]) // 4 for p in packed), dtype=np.int64, count=len(packed))
        indptr = np.r_[0, np.cumsum(lengths)]
        return sp.csr_matrix((data, indices, indptr), shape=(len(items), self.size))

    def vector_dim(self, items: Sequence[Item] = ()) -> int:
        if self.vector_mean is not None:
            return len(self.vector_mean)
        for item in items:
            if item.vector is not None:
                return int(np.asarray(item.vector).size)
        return DEFAULT_DIM

    def vectors(self, items: Sequence[Item], dim: int | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, present)``: the items' vectors (float32, zero rows where missing) and a
        boolean mask of the items that have one."""
        dim = dim or self.vector_dim(items)
        out = np.zeros((len(items), dim), dtype=np.float32)
        present = np.fromiter((it.vector is not None for it in items), dtype=bool,
                              count=len(items))
        at = np.flatnonzero(present)
        if len(at):
            try:
                out[at] = np.stack([np.asarray(items[i].vector, dtype=np.float32).ravel()
                                    for i in at])
            except ValueError:
                bad = next(items[i] for i in at if np.asarray(items[i].vector).size != dim)
                raise ValueError(f"paper {bad.paper_id}: vector has "
                                 f"{np.asarray(bad.vector).size} values, not {dim}") from None
        return out, present

    def centered(self, rows: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Rows minus the corpus mean; a missing vector becomes the mean (a zero row)."""
        out = rows - self.vector_mean if self.vector_mean is not None else rows.copy()
        out[~present] = 0.0
        return out

    # -- persistence ------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        arrays = {"idf": self.idf}
        if self.vector_mean is not None:
            arrays["vector_mean"] = self.vector_mean
        return pack("vocabulary", _FORMAT, {"ngrams": self.ngrams, "terms": list(self.terms)},
                    arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> Vocabulary:
        meta, arrays = unpack(data, "vocabulary", _FORMAT)
        return cls(meta["terms"], arrays["idf"], ngrams=meta["ngrams"],
                   vector_mean=arrays.get("vector_mean"))

    def __repr__(self) -> str:
        return f"Vocabulary({self.size} terms, fingerprint {self.fingerprint})"
