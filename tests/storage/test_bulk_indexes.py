"""Secondary indexes set aside for a large import: dropped, rebuilt by the import, and rebuilt on
the next open when the import died first; never touched on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from paperboy.settings import load_settings
from paperboy.storage import bulk_indexes, open_store
from tests.builders import make_paper

EXPECTED = {"ix_paper_authors_name_key", "ix_paper_categories_category", "ix_papers_modified_at",
            "ix_papers_organization", "ix_papers_published"}


def _indexes(store) -> set[str]:
    with store.engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")).scalars())


def _plan(store, sql: str) -> str:
    with store.engine.connect() as conn:
        return " ".join(row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))


def test_the_deferrable_indexes_are_the_secondary_ones_no_write_reads():
    assert {ix.name for ix in bulk_indexes.deferrable()} == EXPECTED


def test_set_aside_then_restore_gives_back_working_indexes(sqlite_store):
    papers = [make_paper(authors=["Ada Lovelace", "Alan Turing"]) for _ in range(20)]
    sqlite_store.papers.upsert(papers[:10], source="t")
    assert sqlite_store.papers.set_indexes_aside()
    assert EXPECTED.isdisjoint(_indexes(sqlite_store))
    assert set(bulk_indexes.missing(sqlite_store.engine)) == EXPECTED
    sqlite_store.papers.upsert(papers[10:], source="t")  # writes need none of them

    assert set(sqlite_store.papers.restore_indexes(owner=True)) == EXPECTED
    assert EXPECTED <= _indexes(sqlite_store)
    assert "ix_paper_authors_name_key" in _plan(
        sqlite_store, "SELECT paper_id FROM paper_authors WHERE name_key = 'ada lovelace'")
    with sqlite_store.engine.connect() as conn:
        found = conn.execute(text(
            "SELECT count(*) FROM paper_authors WHERE name_key = 'ada lovelace'")).scalar_one()
        integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()
        cache = conn.execute(text("PRAGMA cache_size")).scalar_one()
    assert (found, integrity) == (20, "ok")
    assert cache == -64 * 1024  # the rebuild's smaller sort cache is not left behind
    assert sqlite_store.papers.get_state(bulk_indexes.OWNER_KEY) is None
    assert sqlite_store.papers.restore_indexes() == []  # nothing left to do


def test_opening_the_store_rebuilds_what_a_dead_import_set_aside(sqlite_settings, tmp_path):
    store = open_store(sqlite_settings)
    store.papers.upsert([make_paper() for _ in range(5)], source="t")
    store.close()
    # an importing process that sets the indexes aside and dies before it rebuilds them
    code = ("import sys; from paperboy.settings import load_settings; "
            "from paperboy.storage import open_store; "
            f"s = open_store(load_settings({{'data_dir': {str(sqlite_settings.data_dir)!r}}}, "
            "environ={})); s.papers.set_indexes_aside(); import os; os._exit(9)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 9

    reopened = open_store(sqlite_settings)
    try:
        assert EXPECTED <= _indexes(reopened)
        assert reopened.papers.get_state(bulk_indexes.OWNER_KEY) is None
    finally:
        reopened.close()


def test_opening_the_store_leaves_a_running_import_its_indexes_aside(sqlite_settings):
    importer = open_store(sqlite_settings)
    # as if another, live process (our parent) had set them aside
    assert importer.papers.set_indexes_aside()
    importer.papers.set_state(bulk_indexes.OWNER_KEY, str(os.getppid()))
    other = open_store(sqlite_settings)
    try:
        assert EXPECTED.isdisjoint(_indexes(other))
        assert set(importer.papers.restore_indexes(owner=True)) == EXPECTED
    finally:
        other.close()
        importer.close()


@pytest.mark.postgres
def test_postgresql_keeps_its_indexes(pg_url, tmp_path):
    store = open_store(load_settings({"data_dir": tmp_path, "database_url": pg_url}, environ={}))
    assert store.dialect == "postgresql"
    assert store.papers.set_indexes_aside() is False
    assert store.papers.restore_indexes(owner=True) == []
    with store.engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('papers', 'paper_authors', 'paper_categories')")).scalars())
    store.close()
    assert EXPECTED <= names
