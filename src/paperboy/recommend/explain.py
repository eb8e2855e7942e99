"""Why a paper was recommended: the liked papers it is closest to and the words that weigh most.

The words are those of the candidate whose tf-idf value times the reader's text weight adds most
to its score (arxiv-sanity-lite's "inspect" shows a paper's tf-idf words the same way). A model
without text weights (``nearest_liked``), or one whose text weights favour none of the
candidate's words, names the words the candidate shares with its closest liked paper instead.
"""

from __future__ import annotations

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


def _liked_similarities(model: ReaderModel, candidate: Item, text_row, vocab: Vocabulary
                        ) -> np.ndarray:
    n = len(model.liked_ids)
    sims = np.zeros(n, dtype=np.float32)
    if model.liked_text.shape[1] == text_row.shape[1] and text_row.shape[1]:
        sims[:] = (model.liked_text @ text_row.T).toarray().ravel()
    if candidate.vector is not None and model.liked_has_vector.any():
        v = np.asarray(candidate.vector, dtype=np.float32).ravel()
        if v.size == model.liked_vectors.shape[1]:
            has = model.liked_has_vector
            sims[has] = model.liked_vectors[has] @ v
    return sims


def explain(model: ReaderModel, candidate: Item, vocab: Vocabulary, *, top_liked: int = 3,
            top_words: int = 6) -> Explanation:
    """The reasons behind ``model``'s score of ``candidate`` (see the module docstring)."""
    text_row = vocab.rows([candidate])
    score = float(rank(model, [candidate], vocab)[0])
    sims = _liked_similarities(model, candidate, text_row, vocab)
    order = np.argsort(-sims, kind="stable")[:max(0, top_liked)]
    liked = tuple((model.liked_ids[i], round(float(sims[i]), 4)) for i in order)

    row = text_row.tocoo()
    words: list[tuple[str, float]] = []
    if row.nnz and len(model.text_index):
        weights = model.dense_text_weight(vocab.size)[row.col] * row.data
        picked = [(vocab.terms[j], float(w)) for j, w in zip(row.col, weights) if w > 0]
        words = sorted(picked, key=lambda t: -t[1])
    if not words and row.nnz and len(order):
        closest = model.liked_text[order[0]].toarray().ravel()
        shared = [(vocab.terms[j], float(x * closest[j])) for j, x in zip(row.col, row.data)
                  if closest[j] > 0]
        words = sorted(shared, key=lambda t: -t[1])
    words = [(w, round(v, 4)) for w, v in words[:max(0, top_words)]]
    return Explanation(score=score, liked=liked, words=tuple(words))
