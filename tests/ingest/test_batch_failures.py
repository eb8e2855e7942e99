"""A run that stops between batches, and a batch the database refuses: whole batches only, and
the refused one named by its records."""

from __future__ import annotations

from io import StringIO

import pytest

from paperboy.ingest.pipeline import BatchNotStored, run_ingest
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper

BATCH = 4


def _import(store, items, **kw):
    return run_ingest(store, items, "arxiv", batch_size=BATCH, progress=False,
                      error_stream=StringIO(), **kw)


def test_a_run_stopped_between_batches_leaves_whole_batches_and_a_rerun_finishes(store):
    papers = [make_paper() for _ in range(3 * BATCH)]

    def interrupted():
        yield from papers[:2 * BATCH + 1]
        raise KeyboardInterrupt  # Ctrl-C while the third batch fills

    with pytest.raises(KeyboardInterrupt):
        _import(store, interrupted())
    assert store.papers.count() == 2 * BATCH
    report = _import(store, iter(papers))
    assert (report.new, report.unchanged) == (BATCH, 2 * BATCH)
    assert store.papers.count() == 3 * BATCH


@pytest.mark.postgres
def test_a_batch_the_database_refuses_is_named_by_its_records_and_stops_the_run(tmp_path, pg_url):
    store = open_store(load_settings({"data_dir": tmp_path / "d", "database_url": pg_url},
                                     environ={}))
    papers = [make_paper() for _ in range(4 * BATCH)]
    bad = make_paper(id="9" * 80)  # longer than the id column: the database refuses the batch
    items = [*papers[:BATCH], *papers[BATCH:2 * BATCH - 1], bad, *papers[2 * BATCH:]]
    try:
        with pytest.raises(BatchNotStored) as failed:
            _import(store, iter(items))
        message = str(failed.value)
        assert f"records {BATCH + 1}-{2 * BATCH} ({papers[BATCH].id} to {bad.id})" in message
        assert "value too long" in message and "run the same command again" in message
        assert "\n" not in message
        # the batch before it is stored, it is not, and the run stopped there
        assert store.papers.count() == BATCH
    finally:
        store.close()
