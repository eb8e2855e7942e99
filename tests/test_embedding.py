"""Which vectors a configuration reads and writes: ``auto`` precision follows the store, so an
upgrade or a GPU machine joining CPU ones never makes a second kind of vectors."""

from __future__ import annotations

import numpy as np
import pytest

from paperboy.embedding import configured_model_id, model_id, store_precision
from paperboy.search.service import SearchService
from paperboy.storage.search_index import text_hash
from tests.builders import make_paper

MODEL = "all-MiniLM-L6-v2"
FP32, INT8 = MODEL, f"{MODEL}+int8v2"


def _settings(settings, precision="auto", device="cpu"):
    return settings.model_copy(update={"embedding_precision": precision,
                                       "embedding_device": device})


@pytest.mark.parametrize("held, device, expected", [
    (set(), "cpu", "int8"),            # a new store: the device's default
    (set(), "cuda", "fp32"),
    ({FP32}, "cpu", "fp32"),           # an upgraded fp32 store stays fp32 on the CPU
    ({INT8}, "cuda", "int8"),          # a GPU joining int8 vectors computes int8 (on the CPU)
    ({FP32, INT8}, "cpu", "int8"),     # mid-switch: the device's default
    ({"other-model"}, "cpu", "int8"),  # another model's vectors say nothing
])
def test_auto_follows_the_vectors_the_store_holds(settings, held, device, expected):
    assert store_precision(_settings(settings, device=device), held.__contains__) == expected


def test_an_explicit_precision_wins_over_the_store(settings):
    assert store_precision(_settings(settings, "fp32"), {INT8}.__contains__) == "fp32"
    assert configured_model_id(_settings(settings, "int8"), {FP32}.__contains__) == INT8


def test_services_read_the_stores_vectors_not_a_second_kind(store, settings):
    papers = [make_paper() for _ in range(3)]
    store.papers.upsert(papers, source="arxiv")
    assert store.search.has_embeddings(FP32) is False
    rng = np.random.default_rng(3)
    store.search.put_embeddings(FP32, [(p.id, text_hash(p.title, p.abstract),
                                        rng.standard_normal(384).astype(np.float32))
                                       for p in papers])
    assert store.search.has_embeddings(FP32) and not store.search.has_embeddings(INT8)
    service = SearchService(store, _settings(settings))
    assert service.precision == "fp32" and service.model_id == model_id(MODEL, "fp32")
    from paperboy.recommend.service import RecommendService

    reader_side = RecommendService(store, _settings(settings), parse_query=lambda q: q)
    assert reader_side.embedding_model == FP32
