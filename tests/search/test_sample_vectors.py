"""The vectors shipped with the sample are the bundled model's vectors of those papers (so
similar papers and meaning search work on a first run without embedding first)."""

from __future__ import annotations

import numpy as np

from paperboy.ingest.sample import VECTORS, attach_vectors, load_sample
from paperboy.search.service import SearchService
from paperboy.storage.search_index import embed_text


def test_shipped_vectors_are_the_models(store, settings, embedder):
    load_sample(store)
    service = SearchService(store, settings, embedder=embedder)
    assert attach_vectors(store, service.model_id) == 229
    assert service.embed_missing() == 0  # nothing left to embed
    with np.load(VECTORS, allow_pickle=False) as data:
        ids, shipped = data["ids"].tolist(), data["vectors"]
    picked = list(range(0, len(ids), 23))  # ten papers across both files
    papers = {p.id: p for p in store.papers.get_many([ids[i] for i in picked])}
    fresh = embedder.embed([embed_text(papers[ids[i]].title, papers[ids[i]].abstract)
                            for i in picked])
    cosines = np.sum(np.asarray(fresh) * shipped[picked], axis=1)
    assert cosines.min() > 0.999
    similar = service.similar("2410.17243", k=3)
    assert len(similar) == 3 and all(h.id != "2410.17243" for h in similar)


def test_another_model_embeds_the_sample_itself(store):
    load_sample(store)
    assert attach_vectors(store, "some-other-model") == 0
    assert store.search.count_vectors("some-other-model") == 0
