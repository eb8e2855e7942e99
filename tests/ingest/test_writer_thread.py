"""Batches stored on a writer thread while the source is read on (``run_ingest(overlap=...)``,
the default on PostgreSQL): order, checkpoints, a client that stops, a batch that fails."""

from __future__ import annotations

from io import StringIO

import pytest
from sqlalchemy import text

from paperboy.ingest.pipeline import BatchNotStored, run_ingest
from paperboy.records import Checkpoint
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper

BATCH = 4


def _import(store, items, **kw):
    return run_ingest(store, items, "arxiv", batch_size=BATCH, progress=False,
                      error_stream=StringIO(), overlap=True, **kw)


def test_every_batch_is_stored_in_order_with_its_checkpoint(store):
    papers = [make_paper() for _ in range(11)]
    told: list[list[str]] = []

    def source():
        yield from papers[:6]
        yield Checkpoint("cursor", "after-6")
        yield from papers[6:]
        yield make_paper(id=papers[0].id, version=2, title="A newer title")

    report = _import(store, source(), listeners=[told.append])
    assert (report.new, report.updated, report.unchanged) == (11, 1, 0)
    assert store.papers.count() == 11
    assert store.papers.get_state("cursor") == "after-6"
    assert store.papers.get(papers[0].id).title == "A newer title"
    # the listeners hear of each stored batch, in the source's order
    assert [i for ids in told for i in ids] == [p.id for p in papers] + [papers[0].id]


def test_a_client_stopping_between_batches_leaves_whole_batches_and_a_rerun_finishes(store):
    papers = [make_paper() for _ in range(3 * BATCH)]

    def interrupted():
        yield from papers[:2 * BATCH + 1]
        raise KeyboardInterrupt  # e.g. Ctrl-C while the second batch is on the writer thread

    with pytest.raises(KeyboardInterrupt):
        _import(store, interrupted())
    # the batch in flight was waited for: stored whole, none half-written
    assert store.papers.count() == 2 * BATCH
    report = _import(store, iter(papers))
    assert (report.new, report.unchanged) == (BATCH, 2 * BATCH)
    assert store.papers.count() == 3 * BATCH


@pytest.mark.postgres
def test_a_batch_the_database_refuses_names_its_records_and_stops_the_run(tmp_path, pg_url):
    store = open_store(load_settings({"data_dir": tmp_path / "d", "database_url": pg_url},
                                     environ={}))
    papers = [make_paper() for _ in range(4 * BATCH)]
    bad = make_paper(id="9" * 80)  # longer than the id column: the database refuses the batch
    items = [*papers[:BATCH], *papers[BATCH:2 * BATCH - 1], bad, *papers[2 * BATCH:]]
    try:
        with pytest.raises(BatchNotStored) as failed:
            _import(store, iter(items))
        message = str(failed.value)
        assert f"records {BATCH + 1}-{2 * BATCH}" in message
        assert papers[BATCH].id in message and "value too long" in message
        assert "run the same command again" in message and "\n" not in message
        # the batches before it are stored, it is not, and none after it was started
        assert store.papers.count() == BATCH
    finally:
        store.close()
