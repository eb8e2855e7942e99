"""The tantivy keyword index of the embedded default: fed by rev, resumable, one writer."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from paperboy.query import SearchFilters
from paperboy.search.keywords import INDEX_FORMAT, KeywordIndex, KeywordQuery
from paperboy.search.lexical import TantivyLexical
from tests.builders import make_paper


@pytest.fixture
def backend():
    """SQLite only: PostgreSQL uses its own full-text search (tests/search/test_service.py)."""
    return "sqlite"


@pytest.fixture
def lexical(store, settings):
    return TantivyLexical(store.search, settings.data_dir / "index")


def _papers(n: int, start: int = 0):
    return [make_paper(id=f"2401.{i:05d}", title=f"Paper {i} about topic{i % 7}",
                       abstract=f"Abstract number w{i} with shared words and graphs.",
                       categories=["cs.CL"] if i % 2 else ["math.CO", "cs.DM"],
                       published=datetime(2020 + i % 5, 1, 1))
            for i in range(start, start + n)]


def _found(lexical, query: str, flt=None, limit=50) -> list[str]:
    hits = lexical.search(query.split(), [], flt, limit)
    return sorted(lexical.repo.paper_ids([d for d, _ in hits]).values())


def test_sync_indexes_each_paper_once_and_is_idempotent(lexical, store):
    store.papers.upsert(_papers(30), source="t")
    assert lexical.pending() == 30
    assert lexical.sync() == 30
    assert lexical.sync() == 0 and lexical.check()
    assert lexical.index.size == 30
    assert _found(lexical, "w7") == ["2401.00007"]


def test_a_changed_paper_replaces_its_document(lexical, store):
    store.papers.upsert(_papers(5), source="t")
    lexical.sync()
    store.papers.upsert([make_paper(id="2401.00003", version=2, title="Knot theory",
                                    abstract="Braids and knots.", categories=["math.GT"])],
                        source="t")
    assert lexical.pending() == 1
    assert lexical.sync() == 1
    assert lexical.index.size == 5
    assert _found(lexical, "w3") == [] and _found(lexical, "braids") == ["2401.00003"]


def test_an_interrupted_sync_resumes_from_what_the_index_holds(lexical, store, settings):
    store.papers.upsert(_papers(40), source="t")
    assert lexical.index.sync(lexical.fetch, limit=15) == 15
    # A new process (fresh objects) reads its cursor back from the index itself.
    again = TantivyLexical(store.search, settings.data_dir / "index")
    assert again.index.cursor == lexical.index.cursor
    assert again.pending() == 25
    # Documents added but never committed (a process killed before its commit) are not there.
    writer = again.index.writer()
    writer.add(again.fetch(again.index.cursor, 10))
    writer._writer.rollback()
    writer._writer = None
    third = TantivyLexical(store.search, settings.data_dir / "index")
    assert third.pending() == 25
    assert third.sync() == 25 and third.check() and third.index.size == 40


def test_one_writer_at_a_time(lexical, store, settings):
    store.papers.upsert(_papers(3), source="t")
    holder = lexical.index.writer()
    other = TantivyLexical(store.search, settings.data_dir / "index")
    assert other.sync() is None  # busy: left to the holder
    holder.catch_up(lexical.fetch)
    holder.close()
    assert other.pending() == 0 and other.index.size == 3


def test_filters_are_fields_of_the_index(lexical, store):
    store.papers.upsert(_papers(20), source="t")
    lexical.sync()
    everything = _found(lexical, "shared")
    assert len(everything) == 20
    cl = _found(lexical, "shared", SearchFilters(categories=["cs.CL"]))
    assert cl == [p for p in everything if int(p[-5:]) % 2]
    assert _found(lexical, "shared", SearchFilters(categories=["math"])) == \
        [p for p in everything if int(p[-5:]) % 2 == 0]
    dated = _found(lexical, "shared", SearchFilters(since=date(2023, 1, 1), until=date(2023, 12, 31)))
    assert dated == [p for p in everything if int(p[-5:]) % 5 == 3]


def _ranked(hits):
    return sorted((-round(score, 4), doc) for doc, score in hits)


@pytest.mark.parametrize("flt", [
    SearchFilters(categories=["cs.CL"]),
    SearchFilters(since=date(2022, 1, 1), until=date(2023, 12, 31)),
    SearchFilters(categories=["math"], since=date(2024, 1, 1)),
])
def test_postfiltered_ranking_is_the_filtered_ranking(lexical, store, monkeypatch, flt):
    from paperboy.search.facets import FacetColumns

    store.papers.upsert(_papers(200), source="t")
    lexical.sync()
    columns = FacetColumns(store.search)
    columns.refresh()
    allowed = columns.mask(flt.since, flt.until, list(flt.categories))
    words = ["shared", "topic3", "w17", "w4"]
    native = lexical.search(words, [], flt, 30)
    asked = []
    real = lexical.index.search
    monkeypatch.setattr(lexical.index, "search", lambda q, k: asked.append(q) or real(q, k))
    post = lexical.search(words, [], flt, 30, allowed=allowed, required=10)
    assert len(native) >= 20 and _ranked(post) == _ranked(native)
    assert asked[0].since is None and not asked[0].categories  # read unfiltered, then masked
    # A filter too narrow for the depth it would need: the index filters itself.
    asked.clear()
    monkeypatch.setattr("paperboy.search.lexical.POSTFILTER_MAX", 20)
    again = lexical.search(words, [], flt, 30, allowed=allowed, required=10)
    assert _ranked(again) == _ranked(native) and asked[-1].since == flt.since


def test_postfilter_falls_back_when_too_few_survive(lexical, store, monkeypatch):
    store.papers.upsert(_papers(200), source="t")
    lexical.sync()
    flt = SearchFilters(categories=["cs.CL"])
    allowed = np.array(sorted(store.search.doc_ids([f"2401.{i:05d}" for i in (1, 3, 5)]).values()))
    monkeypatch.setattr("paperboy.search.lexical.POSTFILTER_MAX", 10**6)
    # "shared" matches all 200, so reading 200 / (3 / 200) is beyond the corpus: all seen.
    got = lexical.search(["shared"], [], flt, 30, allowed=allowed, required=10)
    assert sorted(d for d, _ in got) == allowed.tolist()


def test_phrases_are_required(lexical, store):
    store.papers.upsert(_papers(6), source="t")
    lexical.sync()
    assert sorted(lexical.repo.paper_ids(lexical.phrase_doc_ids([["number", "w4"]]).tolist()).values()) \
        == ["2401.00004"]
    hits = lexical.search(["graphs"], [["w1", "with"]], None, 10)
    assert list(lexical.repo.paper_ids([d for d, _ in hits]).values()) == ["2401.00001"]


def test_a_new_index_format_starts_over_from_the_store(lexical, store, settings):
    store.papers.upsert(_papers(4), source="t")
    lexical.sync()
    root = settings.data_dir / "index"
    old = root / f"keywords-f{INDEX_FORMAT - 1 if INDEX_FORMAT > 1 else 0}"
    old.mkdir()
    fresh = KeywordIndex(root)
    assert fresh.size == 4 and not old.exists()


def test_keyword_query_of_nothing_matches_nothing(lexical, store):
    store.papers.upsert(_papers(2), source="t")
    lexical.sync()
    ids, scores = lexical.index.search(KeywordQuery([], []), 10)
    assert len(ids) == 0
    assert lexical.search(["zzzunknown"], [], None, 10) == []
