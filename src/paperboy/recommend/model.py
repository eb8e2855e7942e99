"""One reader's ranking model: fitted from the papers they liked and disliked, scored in batch.

Every kind of model scores a candidate paper with the same formula, so that the digest can rank
all readers in one batched computation whatever each one's model is::

    score = x_text · w_text + (v - mean) · w_vector + knn_weight * max_liked cos(v, liked) + bias

``x_text`` is the paper's tf-idf row in the shared :class:`~.features.Vocabulary`, ``v`` its
MiniLM vector. A candidate without a vector gets, for both vector terms, the reader's average
over the candidates that have one (the corpus mean when none has). The kinds measured for issue 13 (figures in benchmarks/RESULTS.md):

* ``svm_text`` — arxiv-sanity-lite's approach, the named baseline: a linear SVM (liblinear,
  balanced class weights, C=0.1) on the tf-idf rows;
* ``linear_vector`` — a linear SVM on the centred MiniLM vectors;
* ``combined`` — one linear SVM on both, the vector block scaled by ``vector_scale``;
* ``nearest_liked`` — the similarity of the closest liked paper;
* ``hybrid`` — ``combined`` plus ``knn_weight`` times the closest-liked similarity (shipped:
  :data:`DEFAULT_PARAMS`).

A reader with only one kind of signal (likes but no dislikes, or the reverse) cannot train an
SVM; the model is then the difference of the class centroids (Rocchio), the missing class taken
as the corpus mean (the zero of the centred features).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from paperboy.recommend.codec import pack, unpack
from paperboy.recommend.features import Item, Vocabulary

_FORMAT = 1
#: papers to sample as a reader's negatives (:func:`sample_negatives`): the count measured in
#: benchmarks/bench_recommend.py
NEGATIVES = 200
KINDS = ("svm_text", "linear_vector", "combined", "nearest_liked", "hybrid")
SOLVERS = ("svm", "centroid")


@dataclass(frozen=True)
class ModelParams:
    """How a reader's model is fitted. :data:`DEFAULT_PARAMS` is the shipped, measured choice."""

    kind: str = "hybrid"
    #: the SVM's regularization (liblinear's C); arxiv-sanity-lite uses 0.1
    C: float = 0.1
    #: weight of the vector block beside the l2-normalized tf-idf row (combined, hybrid)
    vector_scale: float = 1.0
    #: weight of the closest-liked similarity (hybrid; nearest_liked uses 1)
    knn_weight: float = 0.5
    #: how the linear weights are found: "svm" (liblinear) or "centroid" (mean of the liked
    #: papers' features minus mean of the others': the small-C limit of the balanced SVM)
    solver: str = "svm"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; one of {', '.join(SOLVERS)}")


#: arxiv-sanity-lite's per-tag SVM, re-implemented: the baseline every figure is compared with
BASELINE_PARAMS = ModelParams(kind="svm_text", C=0.1)
#: the shipped model: chosen on the train readers of benchmarks/bench_recommend.py (quality);
#: the SVM solver with C=0.01 tied it there, the centroid is 3-4x cheaper to refit
DEFAULT_PARAMS = ModelParams(kind="hybrid", solver="centroid", vector_scale=1.0, knn_weight=0.1)


@dataclass(eq=False)
class ReaderModel:
    """A fitted model. Persist with :meth:`to_bytes` / :meth:`from_bytes` (no pickle)."""

    kind: str
    vocab_fingerprint: str
    #: sparse text weights over the vocabulary's terms: indices (int32) and values (float32)
    text_index: np.ndarray
    text_weight: np.ndarray
    #: weights of the centred vector (float32, dim); zeros when the kind has none
    vector_weight: np.ndarray
    bias: float
    knn_weight: float
    #: the liked papers (positives), in the order given
    liked_ids: tuple[str, ...]
    #: their vectors (rows of zeros where ``liked_has_vector`` is False)
    liked_vectors: np.ndarray
    liked_has_vector: np.ndarray
    #: their tf-idf rows (for explanations)
    liked_text: sp.csr_matrix
    n_negative: int = 0
    params: dict = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when the reader gave no signal at all: every score is 0."""
        return not self.liked_ids and self.n_negative == 0

    @cached_property
    def embedded_liked(self) -> np.ndarray:
        """The vectors of the liked papers that have one (what the closest-liked term uses)."""
        return np.ascontiguousarray(self.liked_vectors[self.liked_has_vector])

    def dense_text_weight(self, size: int) -> np.ndarray:
        out = np.zeros(size, dtype=np.float32)
        out[self.text_index] = self.text_weight
        return out

    # -- persistence ------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        lt = self.liked_text
        meta = {"model": self.kind, "vocab": self.vocab_fingerprint, "bias": self.bias,
                "knn_weight": self.knn_weight, "liked_ids": list(self.liked_ids),
                "n_negative": self.n_negative, "params": self.params,
                "text_shape": list(lt.shape)}
        return pack("reader-model", _FORMAT, meta, {
            "text_index": self.text_index, "text_weight": self.text_weight,
            "vector_weight": self.vector_weight, "liked_vectors": self.liked_vectors,
            "liked_has_vector": self.liked_has_vector, "lt_data": lt.data,
            "lt_indices": lt.indices, "lt_indptr": lt.indptr})

    @classmethod
    def from_bytes(cls, data: bytes) -> ReaderModel:
        meta, a = unpack(data, "reader-model", _FORMAT)
        liked_text = sp.csr_matrix((a["lt_data"], a["lt_indices"], a["lt_indptr"]),
                                   shape=tuple(meta["text_shape"]))
        return cls(kind=meta["model"], vocab_fingerprint=meta["vocab"],
                   text_index=a["text_index"], text_weight=a["text_weight"],
                   vector_weight=a["vector_weight"], bias=float(meta["bias"]),
                   knn_weight=float(meta["knn_weight"]), liked_ids=tuple(meta["liked_ids"]),
                   liked_vectors=a["liked_vectors"], liked_has_vector=a["liked_has_vector"],
                   liked_text=liked_text, n_negative=int(meta["n_negative"]),
                   params=dict(meta["params"]))


def _svm(X, y, C: float):
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=C, class_weight="balanced", tol=1e-6, max_iter=10000)
    clf.fit(X, y)
    coef = clf.coef_.ravel()
    return (coef.toarray().ravel() if sp.issparse(coef) else np.asarray(coef)), \
        float(clf.intercept_[0])


def _append_dense(A: sp.csr_matrix, B: np.ndarray) -> sp.csr_matrix:
    """``[A | B]`` as CSR, built directly (``sp.hstack`` costs ~20 ms at 1,000 rows)."""
    n, dim = B.shape
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    indptr = A.indptr.astype(np.int64) + np.arange(n + 1) * dim
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    text_at = np.arange(A.nnz) + rows * dim
    data[text_at], indices[text_at] = A.data, A.indices
    dense_at = (A.indptr[1:] + np.arange(n) * dim)[:, None] + np.arange(dim)
    data[dense_at.ravel()] = B.ravel()
    indices[dense_at.ravel()] = np.tile(np.arange(A.shape[1], A.shape[1] + dim, dtype=np.int32), n)
    return sp.csr_matrix((data, indices, indptr), shape=(n, A.shape[1] + dim))


def _centroid_difference(X, n_pos: int):
    """Rocchio: mean of the positives minus mean of the negatives (a missing class is 0)."""
    def mean(block):
        if block.shape[0] == 0:
            return np.zeros(X.shape[1], dtype=np.float32)
        m = block.mean(axis=0)
        return np.asarray(m, dtype=np.float32).ravel()
    return mean(X[:n_pos]) - mean(X[n_pos:])


def fit_reader(positives: Sequence[Item], negatives: Sequence[Item], vocab: Vocabulary,
               params: ModelParams = DEFAULT_PARAMS) -> ReaderModel:
    """Fit one reader's model.

    ``positives``: papers the reader upvoted, collected, asked "more like this" for, imported.
    ``negatives``: "less like this" papers plus papers sampled from the same days
    (:func:`sample_negatives`). Either may be empty; a paper in both counts as positive.
    Items may lack a vector or have an empty text.
    """
    pos_ids = {p.paper_id for p in positives}
    positives = list({p.paper_id: p for p in positives}.values())
    negatives = [n for n in {n.paper_id: n for n in negatives}.values()
                 if n.paper_id not in pos_ids]
    items = positives + negatives
    n_pos = len(positives)
    dim = vocab.vector_dim(items)
    Xt = vocab.rows(items)
    raw, present = vocab.vectors(items, dim)
    Xv = vocab.centered(raw, present)
    kind = params.kind
    use_text = kind in ("svm_text", "combined", "hybrid") and vocab.size > 0
    use_vec = kind in ("linear_vector", "combined", "hybrid")
    vscale = params.vector_scale if kind in ("combined", "hybrid") else 1.0

    w_text = np.zeros(vocab.size, dtype=np.float32)
    w_vec = np.zeros(dim, dtype=np.float32)
    bias = 0.0
    if (use_text or use_vec) and items:
        if n_pos and negatives and params.solver == "svm":
            y = np.r_[np.ones(n_pos), np.zeros(len(negatives))]
            if use_text and use_vec:
                w, bias = _svm(_append_dense(Xt, Xv * vscale), y, params.C)
                w_text, w_vec = w[:vocab.size], w[vocab.size:] * vscale
            elif use_text:
                w_text, bias = _svm(Xt, y, params.C)
            else:
                w_vec, bias = _svm(Xv, y, params.C)
        else:  # the centroid solver, or a reader with one kind of signal only
            if use_text:
                w_text = _centroid_difference(Xt, n_pos)
            if use_vec:
                w_vec = _centroid_difference(Xv, n_pos) * vscale * vscale
        w_text = np.asarray(w_text, dtype=np.float32)
        w_vec = np.asarray(w_vec, dtype=np.float32)
    knn = {"nearest_liked": 1.0, "hybrid": params.knn_weight}.get(kind, 0.0)
    nz = np.flatnonzero(w_text).astype(np.int32)
    return ReaderModel(
        kind=kind, vocab_fingerprint=vocab.fingerprint, text_index=nz,
        text_weight=w_text[nz].astype(np.float32), vector_weight=w_vec, bias=float(bias),
        knn_weight=float(knn), liked_ids=tuple(p.paper_id for p in positives),
        liked_vectors=raw[:n_pos].copy(), liked_has_vector=present[:n_pos].copy(),
        liked_text=Xt[:n_pos].astype(np.float32).tocsr(), n_negative=len(negatives),
        params={"kind": params.kind, "C": params.C, "vector_scale": params.vector_scale,
                "knn_weight": params.knn_weight, "solver": params.solver})


def sample_negatives(pool: Sequence[Item], exclude: Sequence[str] | set[str], k: int,
                     seed: int | str = 0) -> list[Item]:
    """``k`` papers of ``pool`` (e.g. the same days' papers) not in ``exclude`` (the reader's
    positives), chosen at random but the same for the same seed (e.g. the reader's id), so a
    refit without new signals gives the same model."""
    excluded = set(exclude)
    candidates = [it for it in pool if it.paper_id not in excluded]
    if len(candidates) <= k:
        return candidates
    return random.Random(str(seed)).sample(candidates, k)


class _Candidates:
    """The candidates' features, computed once for any number of models."""

    def __init__(self, candidates: Sequence[Item], vocab: Vocabulary, dim: int):
        self.n = len(candidates)
        self.text = vocab.rows(candidates)
        self.raw, self.present = vocab.vectors(candidates, dim)
        self.centered = vocab.centered(self.raw, self.present)
        self.text_t = self.text.T.tocsr()  # (terms, n): weights @ text_t in one sparse product


def _check(models: Sequence[ReaderModel], vocab: Vocabulary) -> int:
    dims = {len(m.vector_weight) for m in models}
    for m in models:
        if m.vocab_fingerprint != vocab.fingerprint:
            raise ValueError(f"a reader model was fitted with vocabulary {m.vocab_fingerprint}, "
                             f"not {vocab.fingerprint}; refit it")
    if len(dims) > 1:
        raise ValueError(f"reader models of different vector sizes {sorted(dims)}")
    return dims.pop() if dims else vocab.vector_dim()


def _score_chunk(models: Sequence[ReaderModel], cand: _Candidates, vocab_size: int) -> np.ndarray:
    r = len(models)
    lengths = [len(m.text_index) for m in models]
    W = sp.csr_matrix((np.concatenate([m.text_weight for m in models]) if r else [],
                       np.concatenate([m.text_index for m in models]) if r else [],
                       np.r_[0, np.cumsum(lengths)]), shape=(r, vocab_size), dtype=np.float32)
    scores = (W @ cand.text_t).toarray() if vocab_size else np.zeros((r, cand.n), np.float32)
    Wv = np.stack([m.vector_weight for m in models])
    vec_part = Wv @ cand.centered.T
    if cand.present.any() and not cand.present.all():  # no vector: the reader's average
        vec_part[:, ~cand.present] = vec_part[:, cand.present].mean(axis=1, keepdims=True)
    scores += vec_part
    scores += np.array([m.bias for m in models], dtype=np.float32)[:, None]
    knn_rows = [i for i, m in enumerate(models) if m.knn_weight and m.liked_has_vector.any()]
    if knn_rows and cand.present.any():
        liked = [models[i].embedded_liked for i in knn_rows]
        starts = np.r_[0, np.cumsum([len(v) for v in liked])[:-1]]
        # (candidates, all liked of the chunk): the per-reader max runs along contiguous rows
        sims = cand.raw @ np.vstack(liked).T
        best = np.maximum.reduceat(sims, starts, axis=1).T
        if not cand.present.all():  # no vector: the reader's average closest-liked similarity
            fill = best[:, cand.present].mean(axis=1, keepdims=True)
            best[:, ~cand.present] = fill
        weights = np.array([models[i].knn_weight for i in knn_rows], dtype=np.float32)
        scores[knn_rows] += weights[:, None] * best
    return scores


def candidate_features(candidates: Sequence[Item], vocab: Vocabulary) -> _Candidates:
    """The candidates' features for :func:`rank_many`, to keep while the same candidates are
    ranked again (a page's period after a reader's signal changed)."""
    return _Candidates(candidates, vocab, vocab.vector_dim(candidates))


def rank_many(models: Sequence[ReaderModel], candidates: Sequence[Item], vocab: Vocabulary,
              *, chunk: int = 1000, features: _Candidates | None = None) -> np.ndarray:
    """Scores of every candidate for every model, shape ``(len(models), len(candidates))``,
    float32, higher is better. The candidates' features are computed once (or given:
    :func:`candidate_features` of the same candidates and vocabulary); readers go in chunks
    of ``chunk`` (bounds memory: a chunk's liked-paper similarities and scores)."""
    dim = _check(models, vocab)
    out = np.zeros((len(models), len(candidates)), dtype=np.float32)
    if not models or not candidates:
        return out
    cand = features if features is not None and features.raw.shape[1] == dim \
        else _Candidates(candidates, vocab, dim)
    for start in range(0, len(models), chunk):
        part = models[start:start + chunk]
        out[start:start + len(part)] = _score_chunk(part, cand, vocab.size)
    return out


def rank(model: ReaderModel, candidates: Sequence[Item], vocab: Vocabulary) -> np.ndarray:
    """One reader's scores of ``candidates`` (see :func:`rank_many`)."""
    return rank_many([model], candidates, vocab)[0]
