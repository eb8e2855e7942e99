"""Ranking properties on 120 real arXiv abstracts (tests/fixtures/search): the top 10 does not
depend on the page size, every fused candidate carries both of its exact scores, and a search
that finds nothing says so, with honest counts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from paperboy.query import SearchFilters, describe_counts
from paperboy.search.service import SearchService
from paperboy.storage.search_index import embed_text, text_hash
from tests.builders import make_paper

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "search" / "arxiv_math_2505_120.jsonl"

QUERIES = [
    "spectral gap", "hyperbolic operators", "viscosity solutions of Hamilton-Jacobi equations",
    "moduli space of stable bundles", "free groups", "Bayesian posterior stability",
    "graph automorphisms", "optimal control elliptic equation", "twin primes",
    "reinforcement learning policy gradient convergence", "Ising machines optimization",
    "noncommutative geometry connections", "inverse problems regularization",
    "kernel ridge regression", "Schrödinger operator", "entropy of dynamical systems",
    "algebraic function fields over finite fields", "mean field opinion dynamics of agents",
    "clustering points on lines", "random matrices eigenvalues",
]
LIMITS = (10, 20, 100, 200)


def _records() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def math_vectors(embedder):
    """The fixture's vectors, embedded once for the module."""
    records = _records()
    return embedder.embed([embed_text(r["title"], r["abstract"]) for r in records])


@pytest.fixture
def math_service(store, settings, embedder, math_vectors):
    records = _records()
    store.papers.upsert([make_paper(id=r["id"], title=r["title"], abstract=r["abstract"],
                                    authors=r["authors"], categories=r["categories"],
                                    primary_category=r["categories"][0],
                                    published=datetime(2025, 5, 30)) for r in records],
                        source="arxiv")
    store.search.put_embeddings(embedder.model_id, [
        (r["id"], text_hash(r["title"], r["abstract"]), v) for r, v in zip(records, math_vectors)])
    # Shallow lists (8 deep) so that most pages need deeper reads than the first one.
    service = SearchService(store, settings, embedder=embedder, depth=8)
    service.upkeep.catch_up()
    return service


def top10(svc, query, mode, limit, **kw):
    return [h.id for h in svc.search(query, limit=limit, mode=mode, **kw).hits[:10]]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_top10_does_not_depend_on_the_page_size(math_service, mode):
    for query in QUERIES:
        tops = {limit: top10(math_service, query, mode, limit) for limit in LIMITS}
        assert all(t == tops[200] for t in tops.values()), (query, tops)
        # What the pages ask for (no matched terms, a second page) gives the same order.
        assert top10(math_service, query, mode, 20, explain=False) == tops[200], query
        second = [h.id for h in math_service.search(query, limit=5, offset=5, mode=mode).hits]
        assert second == tops[200][5:10], query


def test_fused_candidates_carry_both_exact_scores(math_service):
    """A paper found only by meaning has its real BM25, and one found only by words its real
    cosine: the same values a one-sided search gives it."""
    beyond_list = 0
    for query in QUERIES:
        hybrid = math_service.search(query, limit=10)  # lists 10 deep: candidates beyond them
        lexical = {h.id: h.explanation["lexical_score"]
                   for h in math_service.search(query, limit=200, mode="lexical").hits}
        qvec = math_service.embedder.embed_one(query)
        doc_ids = math_service.repo.doc_ids([h.id for h in hybrid.hits])
        vectors = math_service.vectors.vectors(list(doc_ids.values()))
        for h in hybrid.hits:
            ex = h.explanation
            assert ex["lexical_score"] == lexical.get(h.id), query  # None: none of the words
            assert ex["dense_similarity"] == pytest.approx(float(vectors[doc_ids[h.id]] @ qvec),
                                                           abs=1e-4)
            if ex["lexical_score"] is not None and ex["lexical_rank"] is None:
                beyond_list += 1  # its keyword score came without it being in the list
    assert beyond_list > 0


def test_counts_are_honest(math_service):
    res = math_service.search("spectral gap", limit=200)
    words = math_service.search("spectral gap", limit=200, mode="lexical")
    assert res.matched == words.total == len(words.hits) > 0
    assert res.total == res.matched + res.related == len(res.hits)
    by_meaning = [h for h in res.hits if h.explanation["found_by"] == "meaning"]
    assert len(by_meaning) == res.related
    assert all(h.explanation["dense_similarity"] >= math_service.related_min for h in by_meaning)
    assert all(h.explanation["lexical_score"] is None for h in by_meaning)
    assert describe_counts(res).startswith(f"{res.matched} papers match the words")


@pytest.mark.parametrize("long_count", [False, True])
def test_filtered_count_is_exact_in_either_order(math_service, monkeypatch, long_count):
    """The words' count under a filter, taken beside the ranking (a full first list) whichever
    thread ranks the keywords, equals the filtered keyword list read to its end."""
    monkeypatch.setattr(type(math_service.lexical), "count_is_long",
                        lambda self, flt: long_count and flt is not None)
    monkeypatch.setattr("paperboy.search.service.COUNT_ALONE_UP_TO_CORES", 1024)
    counted_beside = 0
    for cats in (["math"], ["math.AP", "math.OC"]):
        flt = SearchFilters(categories=cats)
        for query in QUERIES:
            words = math_service.search(query, flt, limit=200, mode="lexical")
            res = math_service.search(query, flt, limit=5)  # lists 8 deep: often full
            assert res.matched == words.total == len(words.hits), (cats, query)
            counted_beside += words.total > 8
    assert counted_beside >= 5


@pytest.mark.parametrize("query", ["zzzqqqxx", "asdfgh qwerty", "banana bread recipe"])
@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_nothing_found_says_so(math_service, query, mode):
    res = math_service.search(query, mode=mode)
    assert res.hits == [] and res.total == 0 and res.related == 0


def test_similar_fuses_the_papers_own_words(math_service):
    first = _records()[0]  # "Consistent line clustering using geometric hypergraphs"
    terms = math_service.lexical.distinctive_words(first["title"], first["abstract"])
    hits = math_service.similar(first["id"], k=10)
    assert len(hits) == 10 and first["id"] not in [h.id for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.explanation["dense_similarity"] is not None for h in hits)
    if math_service.store.dialect == "postgresql":
        assert terms == []  # no cheap document frequencies there: similar is by meaning only
        return
    assert 0 < len(terms) <= 32 and "hypergraphs" in terms[:5]
    assert not {"the", "of", "we"} & set(terms)
    assert any(h.explanation["lexical_score"] for h in hits)  # the keyword side took part
