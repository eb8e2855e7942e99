"""The pipeline reads sources in a background thread: order, errors and early stops."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest

from paperboy.errors import SourceUnavailable
from paperboy.ingest.pipeline import prefetched, run_ingest
from paperboy.records import Checkpoint
from tests.builders import make_paper


def test_items_arrive_in_order_across_chunks():
    assert list(prefetched(range(1000), chunk=7, depth=2)) == list(range(1000))
    assert list(prefetched([])) == []


def test_error_arrives_after_the_items_before_it():
    def source():
        yield from range(10)
        raise SourceUnavailable("arXiv unreachable")

    got = []
    with pytest.raises(SourceUnavailable, match="arXiv unreachable"):
        for x in prefetched(source(), chunk=4):
            got.append(x)
    assert got == list(range(10))


def test_consumer_stopping_early_stops_the_reader():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    it = prefetched(endless(), chunk=10, depth=2)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()
    time.sleep(0.5)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count  # the reader thread stopped producing
    assert count < 100


def test_records_before_a_failure_are_stored_and_the_cursor_stays_at_its_checkpoint(sqlite_store):
    papers = [make_paper() for _ in range(3)]

    def source():
        yield from papers[:2]
        yield Checkpoint("k", "after-two")
        yield papers[2]
        raise SourceUnavailable("gone")

    with pytest.raises(SourceUnavailable) as failed:
        run_ingest(sqlite_store, source(), "arxiv", progress=False, error_stream=StringIO())
    # Every good record received went in (the one after the checkpoint too); the cursor only
    # moved at the checkpoint, so a re-run fetches that record again (and finds it unchanged).
    assert sqlite_store.papers.get_state("k") == "after-two"
    assert {p.id for p in sqlite_store.papers.get_many([p.id for p in papers])} == {
        p.id for p in papers}
    assert failed.value.report.new == 3


def test_fewer_collections_during_an_import_and_restored_after():
    import gc

    from paperboy.ingest.pipeline import IMPORT_GC_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == IMPORT_GC_THRESHOLD
    assert gc.get_threshold() == before
    try:
        with fewer_collections():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_threshold() == before
