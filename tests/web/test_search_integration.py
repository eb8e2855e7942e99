"""The pages and APIs with the real SearchService (lexical index + MiniLM embeddings), and the
fallback when search fails."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperboy.search import service
from paperboy.web.app import create_app


@pytest.fixture
def search_client(web_settings, web_store):
    svc = service.SearchService(web_store, web_settings)
    svc.upkeep.catch_up()  # the seed went into the store directly, not through an import
    app = create_app(web_settings, web_store)  # builds its own SearchService
    assert app.state.search.ready
    with TestClient(app) as c:
        yield c, svc


def test_keyword_search_before_embeddings(search_client):
    client, _ = search_client
    r = client.get("/search", params={"q": "retrieval heads"})
    assert r.status_code == 200
    assert "search index not ready" not in r.text
    assert "<mark>retrieval</mark>" in r.text and "<mark>heads</mark>" in r.text
    api = client.get("/api/v1/search", params={"q": "retrieval heads", "limit": 3}).json()
    assert api["indexed"] is True and len(api["data"]) == 3
    assert api["data"][0]["explanation"]["matched_terms"] == ["retrieval", "heads"]
    assert "paperboy embed" in api["message"]
    # filters reach the searcher
    only_cv = client.get("/api/v1/search", params={"q": "retrieval", "category": "cs.CV"}).json()
    assert only_cv["data"] and all("cs.CV" in p["categories"] for p in only_cv["data"])


def test_hybrid_search_and_similar_after_embedding(search_client):
    client, svc = search_client
    assert svc.embed_missing() == 38
    api = client.get("/api/v1/search", params={"q": "denoising diffusion"}).json()
    assert api["mode"] == "hybrid" and api["message"] is None
    assert "diffusion" in api["data"][0]["title"]
    sim = client.get("/api/v1/papers/2410.20001/similar", params={"k": 3}).json()
    assert sim["indexed"] and len(sim["data"]) == 3
    assert "2410.20001" not in [p["id"] for p in sim["data"]]
    page = client.get("/papers/2410.20001").text
    assert 'data-similar-src="/papers/2410.20001/similar?partial=1"' in page
    assert 'href="/papers/2410.20001/similar"' in page  # the same list without JavaScript
    fragment = client.get("/papers/2410.20001/similar", params={"partial": 1}).text
    assert 'class="similar-list"' in fragment and "<html" not in fragment
    first_similar = sim["data"][0]["id"]
    assert f'href="/papers/{first_similar}"' in fragment
    full = client.get("/papers/2410.20001/similar")
    assert full.status_code == 200 and "Similar to: Paper 1: scaling" in full.text
    assert full.text.count('class="card"') == 20
    assert client.get("/papers/2501.00001/similar").status_code == 404


def test_nothing_found_on_every_surface(search_client):
    """No word and no close neighbour: empty lists in both APIs, an empty page with hints."""
    client, svc = search_client
    svc.embed_missing()
    api = client.get("/api/v1/search", params={"q": "zzzqqqxx"}).json()
    assert api["data"] == [] and api["count"] == 0 and api["matched"] == 0
    assert client.get("/api/papers/search", params={"q": "zzzqqqxx"}).json() == []
    page = client.get("/search", params={"q": "zzzqqqxx"}).text
    assert "No papers match “zzzqqqxx”" in page and 'class="card"' not in page
    found = client.get("/api/v1/search", params={"q": "denoising diffusion", "limit": 100}).json()
    assert found["count"] == found["matched"] + found["related"] == len(found["data"]) > 0


#: hostile or odd queries -> (ids the API answers, or their count; a phrase its message holds)
HOSTILE = {
    '"unbalanced': ([], "unbalanced quote: the last phrase runs to the end"),
    "NEAR": ([], None),
    "'; DROP TABLE papers;--": (20, None),  # matches "papers"; the table is still there
    "*": ([], None),
    "the of and": ([], "the query has only common words"),
    "x" * 1999: ([], None),
    "author:": ([], None),
    "cat:cs.CL": (13, "no search words: newest papers matching the filters"),
    "a\x00b": (["2410.29999"], None),  # NUL removed: "a b", the one paper with <b> in it
}


@pytest.mark.parametrize("q", list(HOSTILE), ids=lambda q: repr(q[:24]))
def test_hostile_queries_with_real_search(search_client, q):
    client, _ = search_client
    expected, note = HOSTILE[q]
    page = client.get("/search", params={"q": q})
    assert page.status_code == 200
    api = client.get("/api/v1/search", params={"q": q})
    assert api.status_code == 200, api.text[:200]
    ids = [p["id"] for p in api.json()["data"]]
    if isinstance(expected, int):
        assert len(ids) == expected
    else:
        assert ids == expected
    assert page.text.count('class="card"') == len(ids)
    if note:
        assert note in api.json()["message"]
    if q == "cat:cs.CL":
        assert all("cs.CL" in p["categories"] for p in api.json()["data"])
    assert client.app.state.store.papers.count() == 38


class _BrokenSearcher:
    def search(self, *a, **k):
        raise RuntimeError("index file missing")

    def similar(self, *a, **k):
        raise RuntimeError("index file missing")


class _OneRelatedSearcher:
    """Answers like SearchService for a query that one paper matches by words and another by
    meaning only (the real ranking is tested in tests/search/test_ranking.py)."""

    def search(self, *a, **k):
        from paperboy.query import Hit, SearchResults

        return SearchResults([Hit("2410.20001", 0.7, {"found_by": "words"}),
                              Hit("2410.20002", 0.4, {"found_by": "meaning"})], 2,
                             matched=1, related=1)


def test_page_shows_neighbours_by_meaning_as_such(web_settings, web_store):
    app = create_app(web_settings, web_store, searcher=_OneRelatedSearcher())
    with TestClient(app) as client:
        page = client.get("/search", params={"q": "scaling"}).text
    assert "1 paper matches the words, and 1 related by meaning for “scaling”" in page
    assert page.count(">related by meaning</span>") == 1
    assert page.index("2410.20001") < page.index("related by meaning</span>")


def test_failing_searcher_falls_back(web_settings, web_store):
    app = create_app(web_settings, web_store, searcher=_BrokenSearcher())
    with TestClient(app) as client:
        r = client.get("/search", params={"q": "retrieval"})
        assert r.status_code == 200 and "search index not ready" in r.text
        assert "<mark>retrieval</mark>" in r.text
        assert client.get("/papers/2410.20001").status_code == 200
        fragment = client.get("/papers/2410.20001/similar?partial=1")
        assert fragment.status_code == 200 and "once the search index is built" in fragment.text
