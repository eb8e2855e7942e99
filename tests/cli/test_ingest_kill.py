"""An import killed with SIGKILL midway, then run again, ends exactly like an uninterrupted one
(indexes it had set aside included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from io import StringIO

from sqlalchemy import select

from paperboy.ingest.pipeline import run_ingest
from paperboy.search.service import SearchService
from paperboy.settings import load_settings
from paperboy.sources.snapshot import read_snapshot
from paperboy.storage import bulk_indexes, open_store
from paperboy.storage.schema import paper_authors, paper_categories, paper_sources, papers

LINES = 6_000
BATCH = 100


def _write_snapshot(path) -> None:
    with open(path, "w") as fh:
        for n in range(LINES):
            fh.write(json.dumps({
                "id": f"2401.{n:05d}", "submitter": "x",
                "authors": "A. One and B. Two",
                "title": f"Paper number {n}\n  on things",
                "comments": "5 pages" if n % 3 else None, "journal-ref": None,
                "doi": f"10.1000/{n}" if n % 5 == 0 else None, "report-no": None,
                "categories": "cs.LG stat.ML" if n % 2 else "cs.CL",
                "license": None, "abstract": f"  Abstract {n} " + "word " * 60,
                "versions": [{"version": f"v{v}", "created": f"Mon, {v} Jan 2024 10:00:00 GMT"}
                             for v in range(1, 2 + n % 3)],
                "update_date": "2024-01-05",
                "authors_parsed": [["One", "A.", ""], ["Two", "B."]],
            }) + "\n")


def _state(store) -> dict:
    drop = ("created_at", "modified_at", "first_seen_at", "last_seen_at")
    out = {}
    with store.engine.connect() as conn:
        for table, order in ((papers, [papers.c.id]),
                             (paper_authors, [paper_authors.c.paper_id, paper_authors.c.position]),
                             (paper_categories, [paper_categories.c.paper_id,
                                                 paper_categories.c.category]),
                             (paper_sources, [paper_sources.c.paper_id, paper_sources.c.source])):
            rows = conn.execute(select(table).order_by(*order)).mappings().all()
            out[table.name] = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    return out


def test_sigkill_midway_then_rerun_equals_uninterrupted(settings, tmp_path):
    snap = tmp_path / "snap.jsonl"
    _write_snapshot(snap)
    store = open_store(settings)  # schema first, so polling never races the migration
    cmd = [sys.executable, "-m", "paperboy.cli.main", "--data-dir", str(settings.data_dir),
           "-q", "ingest", "file", str(snap), "--batch-size", str(BATCH)]
    if settings.database_url:
        cmd[3:3] = ["--database-url", settings.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    # the import sets the secondary indexes aside (SQLite) before it is killed
    env["PAPERBOY_BULK_INDEX_AFTER"] = str(2 * BATCH)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while store.papers.count() < 3 * BATCH:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "import made no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    stored = store.papers.count()
    assert 0 < stored < LINES and stored % BATCH == 0  # whole batches only
    if store.dialect == "sqlite":  # killed with its indexes set aside
        assert len(bulk_indexes.missing(store.engine)) == len(bulk_indexes.deferrable())

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{LINES - stored} new, 0 updated, {stored} unchanged, 0 rejected" in rerun.stdout

    reference = open_store(load_settings({"data_dir": tmp_path / "reference"}, environ={}))
    report = run_ingest(reference, read_snapshot(snap), "snapshot", batch_size=2000,
                        progress=False, error_stream=StringIO())
    assert report.new == LINES
    try:
        assert _state(store) == _state(reference)
        assert bulk_indexes.missing(store.engine) == []  # the re-run's open rebuilt them
        # The keyword index (tantivy on SQLite, filled after each committed batch) holds every
        # paper once at its current revision, although the kill may have hit between the two.
        search = SearchService(store, settings)
        assert search.lexical.check()
        hits = search.search("paper number 4321", mode="lexical", limit=3).hits
        assert hits[0].id == "2401.04321"
    finally:
        store.close()
        reference.close()
