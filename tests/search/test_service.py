"""SearchService on SQLite and PostgreSQL: lexical, dense, hybrid, filters, explanations,
similar papers and index consistency with the store."""

from __future__ import annotations

import shutil

from datetime import date

import pytest
from sqlalchemy import update

from paperboy.errors import NotFound
from paperboy.query import QueryError, SearchFilters
from paperboy.search.keywords import KeywordIndex
from paperboy.search.service import SearchService
from paperboy.storage.schema import papers
from tests.builders import make_paper
from tests.search.conftest import CORPUS


def ids(results):
    return [h.id for h in results.hits]


def papers_of(svc, hits):
    """Search answers with ids: the caller reads the papers."""
    return [svc.store.papers.get(h.id) for h in hits]


def test_lexical_search_ranks_keyword_matches(store, settings):
    from tests.search.conftest import corpus_papers

    store.papers.upsert(corpus_papers(), source="arxiv")
    svc = SearchService(store, settings)
    svc.upkeep.catch_up()
    res = svc.search("residual networks image", mode="lexical")
    assert ids(res)[0] == "1512.03385"
    hit = res.hits[0]
    assert papers_of(svc, [hit])[0].title == "Deep Residual Learning for Image Recognition"
    assert set(hit.explanation["matched_terms"]) == {"residual", "networks", "image"}
    assert hit.explanation["lexical_rank"] == 1
    # Stemming: "convolution" finds "convolutions"/"convolutional".
    assert {"1409.4842", "1512.03385", "1706.03762"} <= set(ids(svc.search("convolution", mode="lexical")))


def test_hybrid_finds_by_meaning(loaded):
    res = loaded.search("which attention heads fetch facts from a long prompt")
    assert ids(res)[0] == "2404.15574"
    ex = res.hits[0].explanation
    assert ex["method"] == "score" and ex["dense_rank"] == 1 and ex["dense_similarity"] > 0.4
    assert "attention" in ex["matched_terms"] and "heads" in ex["matched_terms"]
    assert res.highlight_terms[:2] == ["attention", "heads"]
    quick = loaded.search("which attention heads fetch facts from a long prompt", explain=False)
    assert ids(quick) == ids(res) and quick.hits[0].explanation["matched_terms"] == []
    assert quick.hits[0].explanation["dense_rank"] == 1


def test_dense_mode_without_shared_words(loaded):
    res = loaded.search("picture classifier with skip connections", mode="dense", limit=3)
    assert ids(res)[0] == "1512.03385"
    assert all(h.explanation["lexical_rank"] is None for h in res.hits)


def test_rrf_fusion_also_works(loaded):
    loaded.fusion = "rrf"
    res = loaded.search("retrieval heads long context")
    assert ids(res)[0] == "2404.15574"
    assert res.hits[0].explanation["method"] == "rrf"


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_filters_are_masks(loaded, mode):
    q = "deep networks for language and images"
    by_cat = loaded.search(q, SearchFilters(categories=["cs.CV"]), mode=mode)
    assert by_cat.hits and all("cs.CV" in p.categories for p in papers_of(loaded, by_cat.hits))
    archive = loaded.search(q, SearchFilters(categories=["stat"]), mode=mode)
    assert ids(archive) in (["1312.6114"], [])  # lexical may not match the words
    window = loaded.search(q, SearchFilters(since=date(2021, 1, 1), until=date(2022, 12, 31)), mode=mode)
    assert window.hits and all(2021 <= p.published.year <= 2022 for p in papers_of(loaded, window.hits))
    # The chain-of-thought paper has "language" but is not close in meaning to the query:
    # found by its words, not by meaning alone.
    author = loaded.search(q, SearchFilters(authors=["wei"]), mode=mode)
    assert ids(author) == ([] if mode == "dense" else ["2201.11903"])
    listed = loaded.search(q, SearchFilters(listed_only=True), mode=mode)
    assert set(ids(listed)) <= {"2404.15574", "2201.11903"}
    assert bool(listed.hits) == (mode != "dense")


def test_query_syntax_filters_and_phrases(loaded):
    res = loaded.search('cat:cs.CL author:"Jason Wei" reasoning')
    assert ids(res) == ["2201.11903"]
    res = loaded.search('"large language models"', mode="hybrid")
    assert set(ids(res)) == {"2106.09685", "2201.11903"}  # the phrase is required, dense too
    res = loaded.search("since:2020-01-01 until:2020-12-31 retrieval")
    assert ids(res) == ["2005.11401"]


def test_paging_is_stable(loaded):
    first = ids(loaded.search("networks models learning", limit=3))
    second = ids(loaded.search("networks models learning", limit=3, offset=3))
    everything = ids(loaded.search("networks models learning", limit=6))
    assert first + second == everything


def test_hidden_papers_are_not_found(loaded, store):
    with store.engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == "1512.03385").values(hidden=True))
    assert "1512.03385" not in ids(loaded.search("residual image recognition"))
    assert "1512.03385" not in ids(loaded.search("residual image recognition", mode="lexical"))
    assert "1512.03385" not in [h.id for h in loaded.similar("1409.4842")]


def test_similar_excludes_itself_and_respects_window(loaded):
    hits = loaded.similar("1512.03385", k=3)
    assert [h.id for h in hits][0] == "1409.4842"
    assert "1512.03385" not in [h.id for h in hits]
    assert hits[0].explanation["dense_similarity"] > 0.3
    windowed = loaded.similar("1512.03385", k=5, since=date(2020, 1, 1))
    assert windowed and all(p.published.year >= 2020 for p in papers_of(loaded, windowed))
    with pytest.raises(NotFound, match="no paper 9999.99999"):
        loaded.similar("9999.99999")


def test_index_follows_updates_and_new_papers(loaded, store, settings):
    """The ingest listener feeds the keyword index and embeds new papers."""
    listener = loaded.upkeep.listener(embed=True)
    new = make_paper(id="2501.00001", title="Quantum annealing for protein folding",
                     abstract="We fold proteins on a quantum annealer.")
    counts = store.papers.upsert([new], source="arxiv")
    listener(counts.changed_ids)
    listener.close()  # the end of an import run: the keyword index commits
    assert ids(loaded.search("protein folding", mode="lexical")) == ["2501.00001"]
    assert ids(loaded.search("biomolecule structure prediction with qubits", mode="dense", limit=1)) \
        == ["2501.00001"]
    changed = make_paper(id="2501.00001", version=2, title="Tensor networks for weather forecasting",
                         abstract="Forecasting weather with tensor networks.")
    listener(store.papers.upsert([changed], source="arxiv").changed_ids)
    listener.close()
    assert ids(loaded.search("protein folding", mode="lexical")) == []
    assert ids(loaded.search("weather", mode="lexical")) == ["2501.00001"]
    assert loaded.repo.count_missing_embeddings(loaded.model_id) == 0


def test_rebuild_repairs(loaded, store, settings, embedder):
    info = loaded.rebuild()
    assert info == {"documents": len(CORPUS), "vectors": len(CORPUS), "model": loaded.model_id,
                    "missing_vectors": 0}
    assert loaded.lexical.check()
    if store.dialect == "sqlite":  # lose the keyword index files: a rebuild restores them
        shutil.rmtree(KeywordIndex(settings.data_dir / "index").path)
        fresh = SearchService(store, settings, embedder=embedder)
        assert not fresh.lexical.check()
        assert fresh.rebuild()["documents"] == len(CORPUS)
        assert fresh.lexical.check()
        loaded = fresh
    assert ids(loaded.search("variational bayes", mode="lexical"))[0] == "1312.6114"


def test_no_vectors_yet_degrades_to_keywords(store, settings):
    store.papers.upsert([make_paper(title="Sparse autoencoders find features")], source="arxiv")
    svc = SearchService(store, settings)
    svc.upkeep.catch_up()
    res = svc.search("sparse autoencoders")
    assert len(res.hits) == 1 and "paperboy embed" in res.message
    assert svc.search("sparse autoencoders", mode="dense").hits == []


ATTENTION = {"1706.03762", "2404.15574"}  # the two papers with "attention" in their text
#: odd or hostile query -> (the papers it matches by keyword, a phrase of the message or None)
BAD_QUERIES = {
    '"unbalanced quote': (set(), "unbalanced quote: the last phrase runs to the end"),
    'NEAR(attention heads)': (ATTENTION, None),
    "attention*": (ATTENTION, None),
    "'; DROP TABLE papers; --": (set(), None),
    'title:"x" OR 1=1': (set(), "unknown filter title: searched as words"),
    "^attention AND -heads + NOT": (ATTENTION, None),
    '""': (set(), "empty query"),
    "\x00\x01 attention \u202e": (ATTENTION, None),
    "colon: ratio 3:1 http://example.org/x": (set(), None),
}


@pytest.mark.parametrize("query", list(BAD_QUERIES))
@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_odd_queries_never_break(loaded, query, mode):
    """Operators and control characters are plain text: the answer is the papers with the
    query's words (none of the others is close enough in meaning to be added)."""
    matches, note = BAD_QUERIES[query]
    res = loaded.search(query, mode=mode)
    assert set(ids(res)) == matches and res.total == len(matches)
    assert (note in res.message) if note else (res.message is None)
    assert loaded.store.papers.count() == len(CORPUS)


def test_bad_input_messages(loaded):
    empty = loaded.search("   ")
    assert empty.hits == [] and "empty query" in empty.message
    stop = loaded.search("the of and which", mode="lexical")
    assert stop.hits == [] and "common words" in stop.message
    stop_hybrid = loaded.search("the of and which")  # by meaning only: nothing is close
    assert stop_hybrid.hits == [] and stop_hybrid.total == 0
    assert "common words" in stop_hybrid.message
    huge = loaded.search("attention " * 2000)
    assert ids(huge)[0] in {"1706.03762", "2404.15574"} and "shortened" in huge.message
    unknown = loaded.search("venue:neurips attention")
    assert unknown.hits and "unknown filter venue:" in unknown.message
    with pytest.raises(QueryError, match="since:yesterday is not a date"):
        loaded.search("since:yesterday attention")
    with pytest.raises(QueryError, match="unknown search mode"):
        loaded.search("attention", mode="magic")
    browse = loaded.search("cat:cs.CV")
    assert set(ids(browse)) == {"1512.03385", "1409.4842"} and browse.total == 2


def test_filter_columns_follow_new_and_changed_papers(loaded, store):
    flt = SearchFilters(categories=["q-bio.BM"], since=date(2025, 1, 1))
    assert loaded.search("protein", flt, mode="dense").hits == []
    from datetime import datetime

    new = make_paper(id="2502.00002", title="Protein language models", abstract="Proteins as text.",
                     categories=["q-bio.BM"], published=datetime(2025, 2, 1))
    loaded.upkeep.papers_changed(store.papers.upsert([new], source="arxiv").changed_ids)
    assert ids(loaded.search("protein", flt, mode="dense")) == ["2502.00002"]
    moved = make_paper(id="2502.00002", version=2, title="Protein language models",
                       abstract="Proteins as text.", categories=["cs.CL"], published=datetime(2025, 2, 1))
    loaded.upkeep.papers_changed(store.papers.upsert([moved], source="arxiv").changed_ids)
    assert loaded.search("protein", flt, mode="dense").hits == []
    assert ids(loaded.search("protein", SearchFilters(categories=["cs.CL"], since=date(2025, 1, 1)),
                             mode="dense")) == ["2502.00002"]


def test_filter_columns_count_and_mask(loaded, store):
    from paperboy.search.facets import FacetColumns

    columns = FacetColumns(store.search)
    assert columns.refresh() == len(CORPUS)
    cv = columns.mask(None, None, ["cs.CV"])
    assert sorted(store.search.visible_ids(cv.tolist()).values()) == ["1409.4842", "1512.03385"]
    recent = columns.mask(date(2021, 1, 1), None, ["cs"])
    assert sorted(store.search.visible_ids(recent.tolist()).values()) == \
        ["2106.09685", "2201.11903", "2404.15574"]
