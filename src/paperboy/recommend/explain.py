"""Why a paper was recommended: the liked papers it is closest to and the words that weigh most.

The words are those of the candidate whose tf-idf value times the reader's text weight adds most
to its score (arxiv-sanity-lite's "inspect" shows a paper's tf-idf words the same way). A model
without text weights (``nearest_liked``), or one whose text weights favour none of the
candidate's words, names the words the candidate shares with its closest liked paper instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paperboy.recommend.features import Item, Vocabulary
from paperboy.recommend.model import ReaderModel, rank


@dataclass(frozen=True)
class Explanation:
    score: float
    #: (liked paper id, similarity), closest first: MiniLM cosine where both papers have a
    #: vector, tf-idf cosine otherwise
    liked: tuple[tuple[str, float], ...]
    #: (word, weight), heaviest first; the weight is the word's share of the score
    words: tuple[tuple[str, float], ...]


def explain_many(model: ReaderModel, candidates: Sequence[Item], vocab: Vocabulary, *,
                 top_liked: int = 3, top_words: int = 6) -> list[Explanation]:
    """:func:`explain` of each candidate, computed together: the tf-idf rows, the text weights
    and the similarities to the liked papers once for all (a page explains 30 papers). Each
    candidate is scored as if alone, so the result is :func:`explain`'s for every one."""
    n = len(candidates)
    if not n:
        return []
    text = vocab.rows(candidates)
    scores = np.zeros(n, dtype=np.float32)
    # scored in two groups (with / without a vector) so that no candidate gets the batch's
    # average vector terms, as it would not alone
    present = np.fromiter((c.vector is not None for c in candidates), dtype=bool, count=n)
    for group in (np.flatnonzero(present), np.flatnonzero(~present)):
        if len(group):
            scores[group] = rank(model, [candidates[i] for i in group], vocab)
    sims = np.zeros((len(model.liked_ids), n), dtype=np.float32)
    if model.liked_text.shape[1] == text.shape[1] and text.shape[1]:
        sims[:] = (model.liked_text @ text.T).toarray()
    has = model.liked_has_vector
    if has.any():
        liked_vectors = model.liked_vectors[has]
        for j, cand in enumerate(candidates):
            if cand.vector is not None:
                v = np.asarray(cand.vector, dtype=np.float32).ravel()
                if v.size == liked_vectors.shape[1]:
                    sims[has, j] = liked_vectors @ v
    weight = model.dense_text_weight(vocab.size) if len(model.text_index) else None
    out = []
    for j in range(n):
        lo, hi = text.indptr[j], text.indptr[j + 1]
        cols, data = text.indices[lo:hi], text.data[lo:hi]
        order = np.argsort(-sims[:, j], kind="stable")[:max(0, top_liked)]
        liked = tuple((model.liked_ids[i], round(float(sims[i, j]), 4)) for i in order)
        words: list[tuple[str, float]] = []
        if len(cols) and weight is not None:
            weights = weight[cols] * data
            words = sorted(((vocab.terms[c], float(w)) for c, w in zip(cols, weights) if w > 0),
                           key=lambda t: -t[1])
        if not words and len(cols) and len(order):
            closest = model.liked_text[order[0]].toarray().ravel()
            words = sorted(((vocab.terms[c], float(x * closest[c])) for c, x in zip(cols, data)
                            if closest[c] > 0), key=lambda t: -t[1])
        words = [(w, round(v, 4)) for w, v in words[:max(0, top_words)]]
        out.append(Explanation(score=float(scores[j]), liked=liked, words=tuple(words)))
    return out


def explain(model: ReaderModel, candidate: Item, vocab: Vocabulary, *, top_liked: int = 3,
            top_words: int = 6) -> Explanation:
    """The reasons behind ``model``'s score of ``candidate`` (see the module docstring)."""
    return explain_many(model, [candidate], vocab, top_liked=top_liked, top_words=top_words)[0]
