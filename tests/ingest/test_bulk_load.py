"""A large import sets the secondary indexes aside once it dominates the store, and ends with
them rebuilt and with exactly the rows an import without that step stores."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from sqlalchemy import select, text

from paperboy.ingest.pipeline import run_ingest
from paperboy.settings import load_settings
from paperboy.sources import snapshot
from paperboy.storage import bulk_indexes, open_store
from paperboy.storage.schema import paper_authors, paper_categories, papers
from tests.replay import FIXTURES

SAMPLE = FIXTURES / "samples" / "arxiv-snapshot.jsonl"  # 60 real records


class IndexWatch:
    """A batch listener noting, after each stored batch, which deferrable indexes are missing."""

    def __init__(self, store):
        self.store = store
        self.seen: list[int] = []

    def __call__(self, ids) -> None:
        self.seen.append(len(bulk_indexes.missing(self.store.engine)))


def _rows(store) -> dict:
    with store.engine.connect() as conn:
        return {
            "papers": conn.execute(select(papers.c.id, papers.c.title, papers.c.authors,
                                          papers.c.published).order_by(papers.c.id)).all(),
            "authors": conn.execute(select(paper_authors.c.paper_id, paper_authors.c.position,
                                           paper_authors.c.name_key)
                                    .order_by(paper_authors.c.paper_id, paper_authors.c.position)).all(),
            "categories": conn.execute(select(paper_categories).order_by(
                paper_categories.c.paper_id, paper_categories.c.category)).all(),
        }


def _import(store, path, **kw):
    return run_ingest(store, snapshot.read_snapshot(path), "snapshot", batch_size=10,
                      progress=False, error_stream=StringIO(), **kw)


@pytest.fixture
def sample():
    return SAMPLE


def test_a_large_first_import_sets_indexes_aside_and_rebuilds_them(sqlite_store, sample, tmp_path):
    watch = IndexWatch(sqlite_store)
    report = _import(sqlite_store, sample, bulk_index_after=30, listeners=[watch])
    assert report.new == 60
    # batches of 10: with the indexes until 30 papers are in, without them after
    assert watch.seen[:3] == [0, 0, 0] and set(watch.seen[3:]) == {5}
    assert bulk_indexes.missing(sqlite_store.engine) == []
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"

    plain = open_store(load_settings({"data_dir": tmp_path / "plain"}, environ={}))
    try:
        _import(plain, sample)
        assert _rows(sqlite_store) == _rows(plain)
    finally:
        plain.close()


def test_an_import_smaller_than_the_store_keeps_the_indexes(sqlite_store, sample, tmp_path):
    _import(sqlite_store, sample)  # 60 papers already there
    watch = IndexWatch(sqlite_store)
    with sample.open() as fh:
        records = [json.loads(line) for line in fh][:30]
    part = tmp_path / "part.jsonl"  # 30 other papers: fewer than the store holds
    part.write_text("".join(json.dumps({**r, "id": f"2501.{n:05d}"}) + "\n"
                            for n, r in enumerate(records)))
    report = _import(sqlite_store, part, bulk_index_after=20, listeners=[watch])
    assert report.new == 30
    assert set(watch.seen) == {0}


def test_a_failing_import_still_rebuilds_the_indexes(sqlite_store, sample):
    def items():
        yield from snapshot.read_snapshot(sample)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        run_ingest(sqlite_store, items(), "snapshot", batch_size=20, progress=False,
                   error_stream=StringIO(), bulk_index_after=40)
    assert sqlite_store.papers.count() == 60
    assert bulk_indexes.missing(sqlite_store.engine) == []
