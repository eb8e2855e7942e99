"""The keyword index's helper process during an import: it takes over after the first batches
and ends with every paper indexed; a helper that dies, or finds the writer taken, leaves
nothing unindexed."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

import pytest

from paperboy.ingest.pipeline import run_ingest
from paperboy.search import follow_process
from paperboy.search.lexical import KeywordFollower, TantivyLexical
from paperboy.search.service import SearchService
from paperboy.sources import snapshot
from tests.builders import make_paper
from tests.replay import FIXTURES

SAMPLE = FIXTURES / "samples" / "arxiv-snapshot.jsonl"  # 60 real records


@pytest.fixture
def helpers(monkeypatch):
    """Every Helper started, for the test to look at (they still run for real)."""
    started = []

    class Recorded(follow_process.Helper):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            started.append(self)

    monkeypatch.setattr(follow_process, "Helper", Recorded)
    return started


def _import(store, settings, *extra):
    listener = SearchService(store, settings).upkeep.listener(embed=False)
    report = run_ingest(store, snapshot.read_snapshot(SAMPLE), "snapshot",
                        batch_size=5, progress=False, error_stream=StringIO(),
                        listeners=[listener, *extra])
    listener.close()
    return report, listener.service.lexical


def test_an_import_hands_the_keyword_index_to_a_helper(sqlite_store, sqlite_settings, helpers):
    report, lexical = _import(sqlite_store, sqlite_settings)
    assert report.new == 60
    assert len(helpers) == 1 and helpers[0].proc.returncode == 0
    assert lexical.check()  # every paper, each at its current rev
    ids, _ = lexical.index.search(lexical._query(["diphoton"], [], None), 5)
    assert len(ids) > 0


def test_a_helper_that_dies_midway_leaves_nothing_unindexed(sqlite_store, sqlite_settings,
                                                            helpers):
    calls = []

    def kill_the_helper(ids):
        calls.append(len(ids))
        if len(calls) == 5:
            helpers[0].proc.kill()
            helpers[0].proc.wait()

    report, lexical = _import(sqlite_store, sqlite_settings, kill_the_helper)
    assert report.new == 60 and helpers[0].proc.returncode < 0
    assert lexical.check()


def test_the_helper_leaves_a_taken_writer_alone(sqlite_store, sqlite_settings):
    sqlite_store.papers.upsert([make_paper() for _ in range(3)], source="t")
    lexical = TantivyLexical(sqlite_store.search, sqlite_settings.data_dir / "index")
    writer = lexical.index.writer()
    try:
        helper = subprocess.run(
            [sys.executable, "-m", "paperboy.search.follow_process",
             sqlite_store.engine.url.render_as_string(hide_password=False),
             str(lexical.index.root), "32"], stdin=subprocess.DEVNULL, timeout=120)
        assert helper.returncode == follow_process.BUSY
    finally:
        writer.close()
    assert lexical.pending() == 3  # left to the holder, which has not synced


def test_the_follower_indexes_what_a_busy_writer_left_once_it_lets_go(sqlite_store,
                                                                     sqlite_settings):
    lexical = TantivyLexical(sqlite_store.search, sqlite_settings.data_dir / "index")
    follower = KeywordFollower(lexical, helper=False)
    other = TantivyLexical(sqlite_store.search, sqlite_settings.data_dir / "index")
    holder = other.index.writer()  # e.g. the server's sync, busy during the import
    papers = [make_paper() for _ in range(4)]
    sqlite_store.papers.upsert(papers, source="t")
    follower([p.id for p in papers])
    assert follower.writer is None  # could not take it
    holder.close()
    follower.close()
    assert lexical.check()
