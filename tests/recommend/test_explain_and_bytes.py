"""Explanations name the reader's real liked papers and the candidate's own words; models and
vocabularies survive a round trip through bytes (no pickle) and refuse foreign bytes."""

from __future__ import annotations

import numpy as np
import pytest

from paperboy.recommend import (
    FormatError,
    Item,
    ModelParams,
    ReaderModel,
    Vocabulary,
    explain,
    explain_many,
    fit_reader,
    rank,
)


def _reader(items, fields, field="astro-ph", n_liked=4):
    own = [it for it in items if fields[it.paper_id] == field]
    liked, rest_own = own[:n_liked], own[n_liked:]
    negatives = [it for it in items if fields[it.paper_id] != field][::3]
    return liked, negatives, rest_own


def test_explanation_names_the_closest_real_liked_paper_and_candidate_words(items, fields, vocab):
    liked, negatives, rest = _reader(items, fields)
    model = fit_reader(liked, negatives, vocab)
    candidate = rest[0]
    why = explain(model, candidate, vocab, top_liked=2, top_words=5)
    liked_ids = [it.paper_id for it in liked]
    assert len(why.liked) == 2 and {pid for pid, _ in why.liked} <= set(liked_ids)
    cosines = {it.paper_id: float(it.vector @ candidate.vector) for it in liked}
    assert why.liked[0][0] == max(cosines, key=cosines.get)
    assert why.liked[0][1] == pytest.approx(cosines[why.liked[0][0]], abs=1e-3)
    assert 1 <= len(why.words) <= 5
    text = candidate.text.lower()
    assert all(word.split()[0] in text for word, _ in why.words)
    assert [w for _, w in why.words] == sorted((w for _, w in why.words), reverse=True)
    assert why.score == pytest.approx(float(rank(model, [candidate], vocab)[0]), abs=1e-5)


def test_nearest_liked_model_explains_with_shared_words(items, fields, vocab):
    liked, negatives, rest = _reader(items, fields, "hep-ph")
    model = fit_reader(liked, negatives, vocab, ModelParams(kind="nearest_liked"))
    why = explain(model, rest[0], vocab)
    assert why.liked[0][0] in {it.paper_id for it in liked}
    assert why.words and all(w > 0 for _, w in why.words)


def test_explanation_without_vectors_uses_text_similarity(items, fields, vocab):
    liked, negatives, rest = _reader(items, fields, "cond-mat")
    bare = [Item(it.paper_id, it.text, None) for it in liked]
    model = fit_reader(bare, negatives, vocab)
    why = explain(model, Item(rest[0].paper_id, rest[0].text, None), vocab)
    assert why.liked[0][0] in {it.paper_id for it in liked} and why.liked[0][1] > 0


@pytest.mark.parametrize("kind", ["svm_text", "hybrid", "nearest_liked"])
def test_model_round_trips_through_bytes(items, fields, vocab, kind):
    liked, negatives, rest = _reader(items, fields)
    liked = liked[:2] + [Item(liked[2].paper_id, liked[2].text, None)] + liked[3:]
    model = fit_reader(liked, negatives, vocab, ModelParams(kind=kind))
    blob = model.to_bytes()
    assert b"pickle" not in blob
    back = ReaderModel.from_bytes(blob)
    assert back.liked_ids == model.liked_ids and back.kind == kind
    assert list(back.liked_has_vector) == list(model.liked_has_vector)
    np.testing.assert_array_equal(rank(back, items, vocab), rank(model, items, vocab))
    assert explain(back, rest[0], vocab) == explain(model, rest[0], vocab)


def test_vocabulary_round_trips_through_bytes(items, vocab):
    back = Vocabulary.from_bytes(vocab.to_bytes())
    assert back.fingerprint == vocab.fingerprint and back.terms == vocab.terms
    texts = [it.text for it in items[:5]]
    np.testing.assert_allclose(back.transform(texts).toarray(), vocab.transform(texts).toarray())
    model = fit_reader(items[:3], items[10:20], vocab)
    np.testing.assert_allclose(rank(model, items, back), rank(model, items, vocab))


def test_foreign_or_broken_bytes_are_refused(items, vocab):
    model = fit_reader(items[:3], items[10:20], vocab)
    with pytest.raises(FormatError, match="not a 'reader-model'"):
        ReaderModel.from_bytes(vocab.to_bytes())
    with pytest.raises(FormatError, match="not a recommend"):
        ReaderModel.from_bytes(model.to_bytes()[:100])
    with pytest.raises(FormatError):
        Vocabulary.from_bytes(b"\x80\x04garbage")


@pytest.mark.parametrize("kind", ["hybrid", "nearest_liked", "svm_text"])
def test_batched_explanations_equal_the_single_ones(items, fields, vocab, kind):
    """A page explains its papers in one call; each must read as if explained alone, also
    beside papers without a vector (scored alone, they get no batch average)."""
    liked, negatives, rest = _reader(items, fields, "astro-ph")
    model = fit_reader(liked, negatives, vocab, ModelParams(kind=kind))
    others = [it for it in items if fields[it.paper_id] != "astro-ph"][1::3]
    page = rest + others
    page = [Item(it.paper_id, it.text, None) if i % 4 == 1 else it for i, it in enumerate(page)]
    page.append(Item("empty", "", None))
    assert len(page) >= 15 and any(it.vector is None for it in page)
    batched = explain_many(model, page, vocab, top_liked=2, top_words=4)
    single = [explain(model, it, vocab, top_liked=2, top_words=4) for it in page]
    assert [(b.liked, b.words) for b in batched] == [(s.liked, s.words) for s in single]
    assert [b.score for b in batched] == pytest.approx([s.score for s in single], abs=1e-5)
    assert sum(bool(b.words) for b in batched) >= len(page) // 2
    assert explain_many(model, [], vocab) == []
