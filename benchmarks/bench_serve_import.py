"""Serving while importing (issue 14): page latency of `paperboy serve --workers 2` on SQLite
with and without a 100k-record snapshot import running into the same store.

    nice python benchmarks/bench_serve_import.py [--base 20000] [--import-records 100000]
        [--phase 6] [--concurrency 16]

Both conditions are measured in the same run, alternating (the machine is shared, so load from
elsewhere hits both alike): after two phases with no import, the import starts in its own
process group and is paused (SIGSTOP) and resumed (SIGCONT) phase by phase, so "with" phases
run while it imports and "without" phases while it is stopped; a last phase follows its end.
Each phase is a bounded loopback load: ``--concurrency`` keep-alive connections for ``--phase``
seconds over a mix of pages (front page, a day's feed, paper pages, keyword searches). The
server runs with its scheduler (the index upkeep job), as `paperboy serve` does by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "serve_import"
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_web import _load, free_port, pct  # noqa: E402 - the same bounded load generator
from snapshot_gen import generate  # noqa: E402


SRC = ROOT / "src"


def _cli(data_dir: Path, *args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PAPERBOY_DATA_DIR=str(data_dir), PAPERBOY_INGEST_INTERVAL_MINUTES="0",
               PYTHONPATH=str(SRC))
    return subprocess.Popen([sys.executable, "-m", "paperboy.cli.main", "-q", *args], env=env,
                            **kw)


def _wait_up(port: int, proc: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/robots.txt", timeout=2)
            return
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit("server exited")
            time.sleep(0.3)
    raise SystemExit("server did not start in 120 s")


def _pages(base: Path, rng: random.Random, k: int = 400) -> list[str]:
    ids, days, words = [], set(), []
    with open(base, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            ids.append(rec["id"])
            if rec.get("update_date"):
                days.add(rec["update_date"])
            words += [w.strip(",.:;()$").lower() for w in rec["title"].split() if len(w) > 6]
    days = sorted(days)
    paths = ["/"] * (k // 8)
    paths += [f"/papers?date={rng.choice(days)}" for _ in range(k // 4)]
    paths += [f"/papers/{rng.choice(ids)}" for _ in range(k // 4)]
    paths += [f"/search?q={'+'.join(rng.sample(words, 2))}" for _ in range(k // 4)]
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=20_000, help="papers stored before serving")
    ap.add_argument("--import-records", type=int, default=100_000)
    ap.add_argument("--phase", type=float, default=6.0, help="seconds of each load phase")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-phases", type=int, default=60, help="bound on alternating phases")
    ap.add_argument("--src", type=Path, default=ROOT / "src",
                    help="the paperboy sources to run (e.g. an exported older commit)")
    args = ap.parse_args()
    globals()["SRC"] = args.src  # what _cli runs

    OUT.mkdir(parents=True, exist_ok=True)
    records = OUT / f"snapshot_{args.base + args.import_records}.jsonl"
    base, more = OUT / f"base_{args.base}.jsonl", OUT / f"import_{args.import_records}.jsonl"
    if not more.exists():
        print("generating snapshot files ...", file=sys.stderr, flush=True)
        generate(records, args.base + args.import_records)
        with open(records, encoding="utf-8") as src, open(base, "w") as b, open(more, "w") as m:
            for n, line in enumerate(src):
                (b if n < args.base else m).write(line)
        records.unlink()
    data_dir = OUT / "data"
    if data_dir.exists():
        import shutil

        shutil.rmtree(data_dir)
    t0 = time.monotonic()
    if _cli(data_dir, "ingest", "file", str(base)).wait() != 0:
        raise SystemExit("base import failed")
    print(f"base of {args.base:,} papers stored and indexed in {time.monotonic() - t0:.0f}s",
          file=sys.stderr, flush=True)

    paths = _pages(base, random.Random(1))
    port = free_port()
    server = _cli(data_dir, "serve", "--port", str(port), "--workers", "2",
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    importer = None
    phases: list[dict] = []

    pooled: dict[str, list[float]] = {"with": [], "without": []}

    def phase(condition: str) -> None:
        mine: list[float] = []
        r = asyncio.run(_load(port, paths, args.phase, args.concurrency, mine))
        pooled[condition] += mine
        r.update(condition=condition, at=round(time.monotonic() - started, 1))
        phases.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)

    try:
        _wait_up(port, server)
        asyncio.run(_load(port, paths, 3.0, args.concurrency))  # warm-up, not counted
        started = time.monotonic()
        phase("without")
        phase("without")
        importer = _cli(data_dir, "ingest", "file", str(more), stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        import_started = time.monotonic()
        running_s = 0.0
        for _ in range(args.max_phases):
            t = time.monotonic()
            phase("with")
            running_s += time.monotonic() - t
            if importer.poll() is not None:
                break
            os.killpg(importer.pid, signal.SIGSTOP)
            phase("without")
            os.killpg(importer.pid, signal.SIGCONT)
        else:
            os.killpg(importer.pid, signal.SIGCONT)
        finished = importer.poll() is not None
        summary = importer.communicate(timeout=600)[0].strip().splitlines()[-1:] if finished \
            else ["import still running after the phase bound"]
        phase("without")
    finally:
        if importer is not None and importer.poll() is None:
            os.killpg(importer.pid, signal.SIGCONT)
            os.killpg(importer.pid, signal.SIGTERM)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    def merged(condition: str) -> dict:
        chosen = [p for p in phases if p["condition"] == condition]
        return {"phases": len(chosen), "requests": sum(p["requests"] for p in chosen),
                "errors": sum(p["errors"] for p in chosen),
                "p99_ms": round(pct(pooled[condition], 99), 1),
                "p50_ms": round(pct(pooled[condition], 50), 1),
                "max_ms": round(max(pooled[condition]), 1),
                "p99_ms_worst_phase": max(p["p99_ms"] for p in chosen),
                "p99_ms_median_phase": sorted(p["p99_ms"] for p in chosen)[len(chosen) // 2],
                "p50_ms_median_phase": sorted(p["p50_ms"] for p in chosen)[len(chosen) // 2],
                "rps_median_phase": sorted(p["rps"] for p in chosen)[len(chosen) // 2]}

    report = {"base": args.base, "import_records": args.import_records,
              "concurrency": args.concurrency, "phase_s": args.phase,
              "import": summary, "import_active_s": round(running_s, 1),
              "import_wall_s": round(time.monotonic() - import_started, 1),
              "without": merged("without"), "with": merged("with"), "phases": phases,
              "load_average_after": os.getloadavg()}
    print(json.dumps(report, indent=2))
    w, wo = report["with"], report["without"]
    print(f"\np99 with the import / without: {w['p99_ms']} / {wo['p99_ms']} ms = "
          f"{w['p99_ms'] / wo['p99_ms']:.2f}x (median phase "
          f"{w['p99_ms_median_phase'] / wo['p99_ms_median_phase']:.2f}x); worst phases "
          f"{w['p99_ms_worst_phase']} / {wo['p99_ms_worst_phase']} ms; errors "
          f"{w['errors']} + {wo['errors']}")


if __name__ == "__main__":
    main()
