"""Offline first start: seconds from `paperboy up` to the first page served, with no network.

    nice .venv/bin/python benchmarks/bench_offline_start.py [--runs 3] [--baseline-src DIR]
        [--source unresolvable|refused]

Each run starts ``paperboy up`` on a fresh data directory with the default settings (retries,
request interval, timeout), its sources pointing at ``--source``: an unresolvable host name
(``export.arxiv.invalid``: a DNS failure, what a machine without network sees) or a refused
local port. The clock stops at the first HTTP 200 on ``/``. ``--baseline-src`` runs the same
against another checkout's ``src`` (e.g. /work/main/src before issue 19) in the same run,
alternating, for the ratio. Every run is bounded (90 s) and the server is stopped after it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parents[1] / "src"
LIMIT_S = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _source_urls(kind: str) -> dict:
    if kind == "refused":
        base = f"http://127.0.0.1:{_free_port()}"
    else:
        base = "http://export.arxiv.invalid"
    return {"PAPERBOY_ARXIV_API_URL": f"{base}/api/query", "PAPERBOY_HF_BASE_URL": base}


def one_run(src: Path, source: str, offline: bool = False) -> float:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
        env.update(_source_urls(source), PYTHONPATH=str(src),
                   PAPERBOY_DATA_DIR=str(Path(tmp) / "data"),
                   PAPERBOY_EMBEDDING_MODEL="/nonexistent-model")
        started = time.monotonic()
        log = open(Path(tmp) / "up.log", "w+")
        proc = subprocess.Popen([sys.executable, "-m", "paperboy.cli.main", "-q", "up", "--port",
                                 str(port), "--no-schedule", *(["--offline"] if offline else [])],
                                env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            while time.monotonic() - started < LIMIT_S:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"paperboy up exited with {proc.returncode}: {log.read()}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            return float("nan")
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-src", type=Path)
    ap.add_argument("--source", choices=["unresolvable", "refused"], default="unresolvable")
    args = ap.parse_args()
    # `up --offline` skips the fetch: the start-up cost both others pay besides the failed fetch
    subjects = [("this checkout", HERE, False), ("this checkout, up --offline", HERE, True)]
    if args.baseline_src:
        subjects.insert(0, ("baseline", args.baseline_src, False))
    times: dict[str, list[float]] = {name: [] for name, *_ in subjects}
    for i in range(args.runs):
        for name, src, offline in subjects:
            t = one_run(src, args.source, offline)
            times[name].append(t)
            print(f"run {i + 1}/{args.runs} {name}: {t:.2f} s", flush=True)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s over {len(values)} runs "
              f"(min {min(values):.2f}, max {max(values):.2f})")
    start = statistics.median(times["this checkout, up --offline"])
    for name in times:
        if not name.endswith("--offline"):
            print(f"{name}: the failed fetch costs {statistics.median(times[name]) - start:.2f} s")
    if args.baseline_src:
        ratio = statistics.median(times["baseline"]) / statistics.median(times["this checkout"])
        print(f"baseline / this checkout: {ratio:.1f}x")


if __name__ == "__main__":
    main()
