"""Whole-process time of `paperboy search --json` (run by hand; figures go to
benchmarks/RESULTS.md, "`paperboy search` process time").

    .venv/bin/python benchmarks/bench_search.py latency --papers 13000 --prepare-only
    git worktree add /tmp/base <commit>    # the code to compare with
    .venv/bin/python benchmarks/bench_cli_process.py --baseline-src /tmp/base/src --runs 15

Each run is a fresh ``python -m paperboy.cli.main`` process, with both source trees' bytecode
compiled first (as in an installed package; a checkout run with PYTHONDONTWRITEBYTECODE=1
would compile every module of the project in every process). The rows take turns run by run
(this code, the baseline, each mode), so a busy spell of the shared machine falls on all of
them alike; each process's CPU time (user + system, all its threads) comes from ``wait4``
and is far less sensitive to the load than its wall time. The baseline gets a copy of the
store (its model cache and saved files differ from this code's). Two warm-up rounds first:
model graphs and saved vectors are built there, and the files are in the page cache.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
QUERY = "gene expression in cancer cells"


def timed_run(src: Path, data_dir: Path, mode: str) -> tuple[float, float]:
    """One process, its CPU time from the difference of this process's children totals."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, "-m", "paperboy.cli.main", "--data-dir", str(data_dir), "search",
           "--json", "-n", "10", "--mode", mode, QUERY]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not proc.stdout.strip().startswith(b"["):
        raise SystemExit(f"{src}: {mode} search failed: {proc.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=13_000, help="the synthetic store's size")
    parser.add_argument("--baseline-src", type=Path, required=True,
                        help="the src folder of the code to compare with")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--modes", default="hybrid,lexical")
    args = parser.parse_args()
    store = OUT / f"synthetic-{args.papers}"
    if not (store / "BUILT").is_file():
        raise SystemExit(f"no store at {store}: run bench_search.py latency --papers "
                         f"{args.papers} --prepare-only first")
    base_store = OUT / f"synthetic-{args.papers}-baseline"
    if not base_store.is_dir():
        shutil.copytree(store, base_store, ignore=shutil.ignore_patterns("models", "*.npy"))
    rows = [(f"{label}, {mode}", src, data, mode)
            for mode in args.modes.split(",")
            for label, src, data in (("this code", ROOT / "src", store),
                                     ("baseline", args.baseline_src.resolve(), base_store))]
    for _, src, _, _ in rows:  # as an installed package has them: bytecode compiled once
        compileall.compile_dir(src, quiet=1)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for _ in range(2):
        for _, src, data, mode in rows:
            timed_run(src, data, mode)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in rows}
    for i in range(args.runs):
        turn = rows[i % len(rows):] + rows[:i % len(rows)]
        for name, src, data, mode in turn:
            results[name].append(timed_run(src, data, mode))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.runs} runs each, taking turns; `search --json -n 10 {QUERY!r}`, "
          f"{args.papers:,} papers")
    for name, got in results.items():
        walls, cpus = [w for w, _ in got], [c for _, c in got]
        print(f"  {name:22} wall min {min(walls):.3f} s, median {statistics.median(walls):.3f} s;"
              f"  CPU (user+sys) min {min(cpus):.3f} s, median {statistics.median(cpus):.3f} s")


if __name__ == "__main__":
    main()
