"""The tantivy keyword index of the embedded default: fed by rev, resumable, one writer."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from paperboy.search.api import SearchFilters
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
    assert lexical.refresh() is None  # a search takes small changes in itself
    assert lexical.index.size == 5
    assert _found(lexical, "w3") == [] and _found(lexical, "braids") == ["2401.00003"]


def test_an_interrupted_sync_resumes_from_what_the_index_holds(lexical, store, settings):
    store.papers.upsert(_papers(40), source="t")
    assert lexical.index.sync(lexical._fetch, limit=15) == 15
    # A new process (fresh objects) reads its cursor back from the index itself.
    again = TantivyLexical(store.search, settings.data_dir / "index")
    assert again.index.cursor == lexical.index.cursor
    assert again.pending() == 25
    # Documents added but never committed (a process killed before its commit) are not there.
    writer = again.index.writer()
    writer.add(again._fetch(again.index.cursor, 10))
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
    holder.catch_up(lexical._fetch)
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
