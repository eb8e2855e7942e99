"""A first run without network: `paperboy up` on an empty store loads the sample shipped in
the package with its vectors, and serves feed, search, similar papers and trending with a
"sample data" banner; `paperboy sample remove` deletes exactly the sample papers and their
index entries (SQLite; the removal also on PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date

import httpx

from paperboy.ingest.sample import SOURCE, load_sample, remove_sample, sample_count
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper
from tests.cli.test_serve import _env, _free_port, _wait_for


def test_first_run_offline_serves_the_sample_then_remove_takes_it_out(tmp_path):
    data = tmp_path / "data"
    env = _env(data, _free_port())
    env.pop("PAPERBOY_EMBEDDING_MODEL")  # the bundled MiniLM: similar papers need vectors
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "up", "--port", str(port), "--days", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        home = _wait_for(base + "/", proc, timeout=240)
        assert home.status_code == 200 and 'id="sample-banner"' in home.text
        assert "paperboy sample remove" in home.text
        assert "Oct 25, 2024" in home.text and 'data-paper-id="2410.17243"' in home.text
        trending = httpx.get(base + "/api/v1/trending").json()
        assert trending["count"] > 0
        # the first query builds the int8 model graph (a few seconds on a busy machine)
        hits = httpx.get(base + "/api/v1/search", params={"q": "contrastive loss"},
                         timeout=60).json()
        assert hits["data"][0]["id"] == "2410.17243"
        similar = httpx.get(base + "/api/v1/papers/2410.17243/similar").json()
        assert similar["indexed"] and similar["count"] >= 1
        assert 'id="sample-banner"' in httpx.get(base + "/search?q=diphoton").text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert len([line for line in out.splitlines() if line.startswith("offline:")]) == 1, out
    assert "sample: 229 sample papers loaded" in out
    # shipped vectors: nothing to embed before serving
    assert "sample: 229 shipped all-MiniLM-L6-v2+int8v2 vectors stored" in out
    assert "embedded " not in out
    assert "Traceback" not in out

    removed = subprocess.run([sys.executable, "-m", "paperboy.cli.main", "sample", "remove"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert removed.returncode == 0, removed.stderr
    assert "removed 229 sample papers and their search index entries; 0 papers left" in (
        removed.stdout)
    settings = load_settings({"data_dir": data}, environ={})
    from paperboy.search.service import SearchService

    with open_store(settings) as store:
        assert sample_count(store) == 0 and store.papers.count() == 0
        service = SearchService(store, settings)
        assert service.lexical.index.size == 0  # the keyword index file forgot them too
        assert store.search.count_vectors(service.model_id) == 0


def test_remove_keeps_what_another_source_also_brought(store):
    report = load_sample(store)
    assert (report.new, report.rejected) == (229, 0) and sample_count(store) == 229
    again = load_sample(store)
    assert (again.new, again.unchanged) == (0, 229)  # idempotent
    # a real fetch also brought one of them: it is no longer only the sample's
    store.papers.upsert([make_paper(id="2410.17243", title="Breaking the Memory Barrier")],
                        source="arxiv")
    ids, doc_ids = remove_sample(store)
    assert len(ids) == 228 and "2410.17243" not in ids and len(doc_ids) == 228
    assert store.papers.count() == 1 and store.papers.get("2410.17243") is not None
    assert sorted(s["source"] for s in store.papers.sources("2410.17243")) == ["arxiv", SOURCE]
    assert sample_count(store) == 0


def test_sample_is_small_and_says_where_it_comes_from():
    from paperboy.ingest.sample import DATA_DIR

    files = sorted(p.name for p in DATA_DIR.iterdir())
    assert "SOURCE.txt" in files
    size = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert size < 1_000_000
    for name in files:
        if name != "SOURCE.txt":
            assert name in (DATA_DIR / "SOURCE.txt").read_text()


def test_sample_listing_day_is_the_hf_answer_day(store):
    load_sample(store)
    assert store.feeds.latest_day() == date(2024, 10, 25)
    assert len(store.papers.listings("2410.17243")) == 1


def test_sample_load_and_remove_commands(paperboy):
    loaded = paperboy("sample", "load")
    assert loaded.exit_code == 0, loaded.output
    assert "sample: 229 sample papers loaded" in loaded.output
    assert "sample: 229 shipped all-MiniLM-L6-v2+int8v2 vectors stored" in loaded.output
    assert "embedded" not in loaded.output  # nothing left to embed
    shown = paperboy("show", "0704.0001")
    assert shown.exit_code == 0 and "diphoton" in shown.output
    removed = paperboy("sample", "remove")
    assert removed.exit_code == 0
    assert "removed 229 sample papers and their search index entries; 0 papers left" in (
        removed.output)
    again = paperboy("sample", "remove")  # nothing left: says so, no error
    assert again.exit_code == 0 and "removed 0 sample papers" in again.output
