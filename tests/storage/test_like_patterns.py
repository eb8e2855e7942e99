"""LIKE patterns built from user input match it literally on both databases (issue 14 case 8:
on PostgreSQL `author=\\` logged an escape error and silently dropped the filter)."""

from __future__ import annotations

from paperboy.query import SearchFilters
from tests.builders import make_paper


def test_author_and_category_filters_take_any_character(store):
    store.papers.upsert([
        make_paper(id="2401.00001", authors=["Ada Lovelace"], categories=["cs.LG"]),
        make_paper(id="2401.00002", authors=["Back\\Slash Person"], categories=["cs.AI"]),
        make_paper(id="2401.00003", authors=["Jo Under_Score"], categories=["math.ST"]),
        make_paper(id="2401.00004", authors=["Mr 100%"], categories=["c_s.XX"]),
    ], "test")
    store.search.ensure_search_docs()
    ids = store.search.doc_ids(["2401.00001", "2401.00002", "2401.00003", "2401.00004"])

    def people(author):
        found = store.search.people_doc_ids(SearchFilters(authors=[author]))
        return sorted(store.search.paper_ids(list(map(int, found))).values())

    def filtered(**kw):
        found = store.search.filter_doc_ids(SearchFilters(**kw))
        return sorted(store.search.paper_ids(list(map(int, found))).values())

    assert people("\\") == [] and filtered(authors=["\\"]) == []
    assert people("Slash\\") == [] and people("Back\\Slash Person") == ["2401.00002"]
    assert people("Under_Score") == ["2401.00003"] and people("Under Score") == []
    assert people("_nder_Score") == [] and people("%") == [] and people("100%") == ["2401.00004"]
    assert filtered(authors=["100%"]) == ["2401.00004"]
    assert filtered(categories=["c_s"]) == ["2401.00004"] and filtered(categories=["c%"]) == []
    assert filtered(categories=["cs"]) == ["2401.00001", "2401.00002"]
    assert len(ids) == 4
