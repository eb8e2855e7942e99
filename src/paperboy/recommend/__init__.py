"""Personal ranking ("For you", issue 13): a model per reader, fitted from their signals.

Pure model code over paper ids, texts and stored vectors (numpy, scipy, scikit-learn); the
store-facing service that gathers signals and caches models lives beside it (``service``).

Public API::

    Item(paper_id, text, vector)              # text = title + " " + abstract; vector may be None
    vocab = Vocabulary.fit(texts, vectors=None)   # once, on a corpus of the store's papers
    vocab.to_bytes() / Vocabulary.from_bytes(b); vocab.fingerprint
    negatives = sample_negatives(pool, exclude=liked_ids, k=NEGATIVES, seed=reader_id)
    model = fit_reader(positives, negatives, vocab, params=DEFAULT_PARAMS)
    model.to_bytes() / ReaderModel.from_bytes(b); model.vocab_fingerprint; model.is_empty
    scores = rank_many(models, candidates, vocab)  # (len(models), len(candidates)), float32
    scores = rank(model, candidates, vocab)        # one reader
    explain(model, candidate, vocab, top_liked=3, top_words=6) -> Explanation(score, liked, words)
    explain_many(model, candidates, vocab) -> [Explanation, ...]  # a page's papers at once

Positives are the papers a reader upvoted, collected, asked "more like this" for or imported;
negatives are their "less like this" papers plus papers sampled from the same days
(``sample_negatives``). A model is valid only with the vocabulary it was fitted with
(``rank_many`` refuses another one: refit). Serialized forms are numpy arrays plus JSON with a
format version, never pickle; a blob of an unknown version raises ``FormatError`` (refit).

A :class:`Vocabulary` remembers the tf-idf row of each paper it has seen (by paper id and text;
bounded): keep one instance per process so refits and daily ranking reuse them (a refit of
1,000 signals is ~9 ms with the rows known, ~200 ms the first time).
"""

from paperboy.recommend.codec import FormatError
from paperboy.recommend.explain import Explanation, explain, explain_many
from paperboy.recommend.features import Item, Vocabulary
from paperboy.recommend.model import (
    BASELINE_PARAMS,
    DEFAULT_PARAMS,
    KINDS,
    NEGATIVES,
    ModelParams,
    ReaderModel,
    candidate_features,
    fit_reader,
    rank,
    rank_many,
    sample_negatives,
)

__all__ = [
    "BASELINE_PARAMS", "DEFAULT_PARAMS", "KINDS", "NEGATIVES", "Explanation", "FormatError", "Item",
    "ModelParams", "ReaderModel", "Vocabulary", "candidate_features", "explain", "explain_many",
    "fit_reader", "rank", "rank_many", "sample_negatives",
]
