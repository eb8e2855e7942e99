"""Embedding spread over worker processes against one PostgreSQL: disjoint claims, the same
vectors as one worker, and a killed worker's batch taken again once its claim expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from sqlalchemy import text

from paperboy.search.service import SearchService
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper

pytestmark = pytest.mark.postgres

PAPERS = 40
BATCH = 6


@pytest.fixture
def pg(tmp_path, pg_url):
    settings = load_settings({"data_dir": tmp_path / "data", "database_url": pg_url,
                              "embedding_device": "cpu"}, environ={})
    store = open_store(settings)
    store.papers.upsert([make_paper(title=f"Paper {n} on topic {n % 7}",
                                    abstract=f"Abstract {n}: " + "words about things " * (n % 9))
                         for n in range(PAPERS)], source="arxiv")
    yield settings, store
    store.close()


def _vectors(store, model: str) -> dict[str, np.ndarray]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT paper_id, vector FROM embeddings WHERE model = :m"),
                            {"m": model}).all()
    return {pid: np.frombuffer(blob, dtype="<f4") for pid, blob in rows}


def _cli(settings, *args, claim_seconds: int = 600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update(PAPERBOY_DATABASE_URL=settings.database_url, PAPERBOY_EMBEDDING_DEVICE="cpu",
               PAPERBOY_EMBED_CLAIM_SECONDS=str(claim_seconds))
    return [sys.executable, "-m", "paperboy.cli.main", "--data-dir", str(settings.data_dir),
            "-q", *args], env


def test_two_workers_embed_each_paper_once_with_single_worker_vectors(pg):
    settings, store = pg
    cmd, env = _cli(settings, "embed", "--workers", "2", "--batch", str(BATCH))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=550)
    assert done.returncode == 0, done.stderr
    # the workers' own counts add up to the papers: no batch was embedded twice
    assert f"embedded {PAPERS} papers" in done.stdout
    service = SearchService(store, settings)
    model = service.model_id
    assert service.repo.embed_queue.pending(model) == 0
    two = _vectors(store, model)
    assert len(two) == PAPERS and service.repo.pgvector.count(model) == PAPERS

    service.repo.drop_embeddings(model)
    assert service.embed_claimed("solo", batch=BATCH) == PAPERS
    one = _vectors(store, model)
    assert one.keys() == two.keys()
    worst = max(float(np.abs(one[k] - two[k]).max()) for k in one)
    assert worst < 1e-5, worst


def test_a_killed_workers_batch_is_taken_again_after_its_claim_expires(pg):
    settings, store = pg
    service = SearchService(store, settings)
    model = service.model_id
    # A worker that claimed a batch (committed) and was killed while embedding it.
    script = (
        "import sys, time\n"
        "from paperboy.settings import load_settings\n"
        "from paperboy.storage import open_store\n"
        "from paperboy.search.service import SearchService\n"
        f"s = load_settings({{'data_dir': {str(settings.data_dir)!r}, "
        f"'database_url': {settings.database_url!r}}}, environ={{}})\n"
        "svc = SearchService(open_store(s), s)\n"
        "q = svc.repo.embed_queue\n"
        "q.fill(svc.model_id, [[p for p, _, _ in r] for r in svc.repo.missing_embeddings(svc.model_id)])\n"
        f"print(','.join(q.claim(svc.model_id, 'doomed', {BATCH}, 3)), flush=True)\n"
        "time.sleep(120)\n")
    doomed = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        claimed = doomed.stdout.readline().strip().split(",")
        assert len(claimed) == BATCH
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=30)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
        doomed.stdout.close()
    assert doomed.returncode == -signal.SIGKILL
    assert service.repo.embed_queue.pending(model) == PAPERS

    cmd, env = _cli(settings, "embed", "--batch", str(BATCH), claim_seconds=600)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=550)
    assert done.returncode == 0, done.stderr
    assert f"embedded {PAPERS} papers" in done.stdout  # the dead worker's batch included
    vectors = _vectors(store, model)
    assert set(claimed) <= vectors.keys() and len(vectors) == PAPERS
    assert service.repo.embed_queue.pending(model) == 0
