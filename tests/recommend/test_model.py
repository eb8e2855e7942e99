"""Reader models on real records: they find a reader's field, beat random, keep the measured
direction against the arxiv-sanity-lite baseline, batch equals one-at-a-time, edge cases."""

from __future__ import annotations

import random

import numpy as np
import pytest

from paperboy.recommend import (
    BASELINE_PARAMS,
    DEFAULT_PARAMS,
    KINDS,
    Item,
    ModelParams,
    Vocabulary,
    candidate_features,
    fit_reader,
    rank,
    rank_many,
    sample_negatives,
)

FIELDS = ("astro-ph", "hep-ph", "cond-mat", "math")


def reader_split(items, fields, field, seed, n_liked=5, n_neg=12):
    """A reader of ``field``: ``n_liked`` liked papers, sampled negatives (any field, like the
    app's same-day sample), and the rest as the day's candidates."""
    rng = random.Random(seed)
    own = [it for it in items if fields[it.paper_id] == field]
    liked = rng.sample(own, n_liked)
    liked_ids = {it.paper_id for it in liked}
    rest = [it for it in items if it.paper_id not in liked_ids]
    negatives = sample_negatives(rest, liked_ids, n_neg, seed=seed)
    neg_ids = {it.paper_id for it in negatives}
    candidates = [it for it in rest if it.paper_id not in neg_ids]
    relevant = np.array([fields[c.paper_id] == field for c in candidates])
    return liked, negatives, candidates, relevant


def average_precision(scores, relevant) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = relevant[order]
    if not hits.any():
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def mean_ap(items, fields, vocab, params, seeds=range(3)) -> float:
    aps = []
    for field in FIELDS:
        for seed in seeds:
            liked, negs, cands, rel = reader_split(items, fields, field, seed)
            aps.append(average_precision(rank(fit_reader(liked, negs, vocab, params), cands,
                                              vocab), rel))
    return float(np.mean(aps))


def test_shipped_model_beats_random_and_keeps_the_baseline_direction(items, fields, vocab):
    shipped = mean_ap(items, fields, vocab, DEFAULT_PARAMS)
    baseline = mean_ap(items, fields, vocab, BASELINE_PARAMS)
    rng = np.random.default_rng(0)
    chance = []
    for field in FIELDS:
        _, _, cands, rel = reader_split(items, fields, field, 0)
        chance += [average_precision(rng.random(len(cands)), rel) for _ in range(20)]
    assert shipped > float(np.mean(chance)) + 0.3, (shipped, np.mean(chance))
    assert shipped >= baseline, (shipped, baseline)


@pytest.mark.parametrize("solver", ["svm", "centroid"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_ranks_the_readers_field_first(items, fields, vocab, kind, solver):
    liked, negs, cands, rel = reader_split(items, fields, "astro-ph", 1)
    params = ModelParams(kind=kind, solver=solver)
    scores = rank(fit_reader(liked, negs, vocab, params), cands, vocab)
    top = np.argsort(-scores)[:5]
    assert rel[top].sum() >= 4, [cands[i].paper_id for i in top]


def test_rank_many_is_the_same_as_one_reader_at_a_time_in_any_chunk(items, fields, vocab):
    models = []
    for i, field in enumerate(FIELDS * 2):
        liked, negs, _, _ = reader_split(items, fields, field, i)
        models.append(fit_reader(liked, negs, vocab, ModelParams(kind=KINDS[i % len(KINDS)])))
    batch = rank_many(models, items, vocab)
    assert batch.shape == (len(models), len(items)) and batch.dtype == np.float32
    single = np.stack([rank(m, items, vocab) for m in models])
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rank_many(models, items, vocab, chunk=3), batch, atol=1e-5)
    # the features kept for a period's candidates give the very same scores, reused
    kept = candidate_features(items, vocab)
    for _ in range(2):
        np.testing.assert_array_equal(rank_many(models, items, vocab, features=kept), batch)


def test_sample_negatives_excludes_positives_and_repeats_for_a_seed(items):
    liked = {it.paper_id for it in items[:5]}
    first = sample_negatives(items, liked, 10, seed="reader-1")
    assert len(first) == 10 and not liked & {it.paper_id for it in first}
    assert [it.paper_id for it in sample_negatives(items, liked, 10, seed="reader-1")] == \
        [it.paper_id for it in first]
    assert len(sample_negatives(items, liked, 1000)) == len(items) - 5


# -- edge cases a real reader produces ---------------------------------------------------------

def test_no_negatives_uses_the_liked_centroid(items, fields, vocab):
    liked, _, cands, rel = reader_split(items, fields, "hep-ph", 2)
    model = fit_reader(liked, [], vocab)
    scores = rank(model, cands, vocab)
    assert model.n_negative == 0 and rel[np.argsort(-scores)[:3]].all()


def test_one_positive_ranks_its_field_first(items, fields, vocab):
    liked, negs, cands, rel = reader_split(items, fields, "cond-mat", 3, n_liked=1)
    scores = rank(fit_reader(liked, negs, vocab), cands, vocab)
    assert rel[np.argsort(-scores)[:3]].sum() >= 2


def test_no_signal_at_all_scores_zero(items, vocab):
    model = fit_reader([], [], vocab)
    assert model.is_empty
    assert not rank(model, items[:10], vocab).any()


def test_only_dislikes_pushes_their_field_down(items, fields, vocab):
    disliked = [it for it in items if fields[it.paper_id] == "math"][:5]
    others = [it for it in items if it not in disliked]
    scores = rank(fit_reader([], disliked, vocab), others, vocab)
    is_math = np.array([fields[it.paper_id] == "math" for it in others])
    assert scores[is_math].mean() < scores[~is_math].mean()


def test_items_without_vectors_and_empty_texts(items, fields, vocab):
    liked, negs, cands, rel = reader_split(items, fields, "astro-ph", 4)
    bare = [Item(it.paper_id, it.text, None) for it in liked[:2]] + liked[2:]
    negs = negs + [Item("empty-1", "", None), Item("empty-2", "   ", items[0].vector)]
    model = fit_reader(bare, negs, vocab)
    assert list(model.liked_has_vector) == [False, False, True, True, True]
    no_vec = [Item(c.paper_id, c.text, None) for c in cands]
    for candidates in (cands, no_vec, cands[:5] + [Item("empty-3", "", None)]):
        scores = rank(model, candidates, vocab)
        assert np.isfinite(scores).all()
    # without vectors the text still finds the field
    scores = rank(model, no_vec, vocab)
    assert rel[np.argsort(-scores)[:5]].sum() >= 3  # chance: ~1.4 of 5


def test_vocabulary_of_empty_or_tiny_corpora(items):
    empty = Vocabulary.fit(["", "  "])
    assert empty.size == 0
    for kind in KINDS:
        model = fit_reader(items[:2], items[2:4], empty, ModelParams(kind=kind))
        assert np.isfinite(rank(model, items[4:8], empty)).all()
    tiny = Vocabulary.fit(["graph neural networks", "graph kernels"])
    assert "graph" in tiny.terms and tiny.transform(["graph"]).shape == (1, tiny.size)


def test_a_model_refuses_another_vocabulary(items, vocab):
    model = fit_reader(items[:3], items[3:9], vocab)
    other = Vocabulary.fit([it.text for it in items[:30]])
    with pytest.raises(ValueError, match="refit"):
        rank_many([model], items[:5], other)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown model kind"):
        ModelParams(kind="magic")


def test_cached_rows_follow_text_changes_and_stay_bounded(items):
    vocab = Vocabulary.fit([it.text for it in items])
    texts = [it.text for it in items]
    np.testing.assert_allclose(vocab.rows(items).toarray(), vocab.transform(texts).toarray())
    edited = Item(items[0].paper_id, items[1].text, None)  # same paper, new abstract
    np.testing.assert_allclose(vocab.rows([edited]).toarray(),
                               vocab.transform([items[1].text]).toarray())
    assert (vocab.rows([edited]) != vocab.transform([items[0].text])).nnz
    vocab._rows.clear()
    vocab.cache_size = 10
    for start in range(0, len(items), 8):
        part = items[start:start + 8]
        np.testing.assert_allclose(vocab.rows(part).toarray(),
                                   vocab.transform([it.text for it in part]).toarray())
        assert len(vocab._rows) <= 10


@pytest.mark.parametrize("centred", [True, False])
def test_a_paper_without_vector_scores_as_the_readers_average(items, fields, vocab, centred):
    """Whether or not the vocabulary knows the corpus mean vector."""
    if not centred:
        vocab = Vocabulary(vocab.terms, vocab.idf, ngrams=vocab.ngrams, vector_mean=None)
    liked, negs, cands, _ = reader_split(items, fields, "math", 5)
    for kind in ("linear_vector", "nearest_liked"):
        model = fit_reader(liked, negs, vocab, ModelParams(kind=kind, solver="centroid"))
        bare = Item("no-vector", cands[0].text, None)
        scores = rank(model, cands[1:] + [bare], vocab)
        assert scores[-1] == pytest.approx(float(scores[:-1].mean()), abs=1e-5)
