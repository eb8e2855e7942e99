"""The pipeline: a source failing midway, checkpoints, and the collector tuning of an import."""

from __future__ import annotations

from io import StringIO

import pytest

from paperboy.errors import SourceUnavailable
from paperboy.ingest.pipeline import run_ingest
from paperboy.records import Checkpoint
from tests.builders import make_paper


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
