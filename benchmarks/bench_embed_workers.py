"""Embedding spread over workers against one PostgreSQL: papers/s for 1 and for N workers.

    .venv/bin/python benchmarks/bench_embed_workers.py [--papers 400] [--workers 2] [--rounds 2]

Imports the first ``--papers`` records of a generated snapshot (``snapshot_gen.py``, shapes of
the real Kaggle sample) into a fresh PostgreSQL (pgserver), then runs ``paperboy embed
--workers 1`` and ``paperboy embed --workers N`` alternately, ``--rounds`` times, dropping the
vectors before each run. Each run's wall time includes the workers' start and model load (what
a user waits for). Checks every run stored one vector per paper and emptied the queue. The
1-minute load average is printed with each figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from io import StringIO
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from snapshot_gen import DEFAULT_SAMPLE, generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    import pgserver
    from sqlalchemy import text

    from paperboy.ingest.pipeline import run_ingest
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.sources.snapshot import read_snapshot
    from paperboy.storage import open_store

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        snap = Path(tmp) / "snap.jsonl"
        generate(snap, args.papers, DEFAULT_SAMPLE)
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            url = server.get_uri()
            settings = load_settings({"data_dir": Path(tmp) / "data", "database_url": url},
                                     environ={})
            store = open_store(settings)
            run_ingest(store, islice(read_snapshot(snap), args.papers), "snapshot",
                       progress=False, error_stream=StringIO())
            service = SearchService(store, settings)
            service.embedder  # the graph is built and cached before any timing
            env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
            env["PAPERBOY_DATABASE_URL"] = url
            for round_no in range(args.rounds):
                for workers in (1, args.workers):
                    service.repo.drop_embeddings(service.model_id)
                    cmd = [sys.executable, "-m", "paperboy.cli.main", "--data-dir",
                           str(settings.data_dir), "-q", "embed", "--workers", str(workers),
                           "--batch", str(args.batch)]
                    load = os.getloadavg()[0]
                    start = time.perf_counter()
                    subprocess.run(cmd, env=env, check=True, capture_output=True)
                    seconds = time.perf_counter() - start
                    with store.engine.connect() as conn:
                        stored = conn.execute(text(
                            "SELECT count(*) FROM embeddings WHERE model = :m"),
                            {"m": service.model_id}).scalar_one()
                    assert stored == args.papers, stored
                    assert service.repo.embed_queue.pending(service.model_id) == 0
                    row = {"round": round_no, "workers": workers, "papers": stored,
                           "seconds": round(seconds, 1), "rate": round(stored / seconds, 1),
                           "load_before": round(load, 1),
                           "load_after": round(os.getloadavg()[0], 1)}
                    results.append(row)
                    print(json.dumps(row), flush=True)
            store.close()
        finally:
            server.cleanup()
    for workers in (1, args.workers):
        rates = [r["rate"] for r in results if r["workers"] == workers]
        print(f"workers={workers}: mean {sum(rates) / len(rates):.1f} papers/s over {len(rates)} runs")


if __name__ == "__main__":
    main()
