"""Snapshot import benchmark: records/s and peak RSS on SQLite (and PostgreSQL), no embeddings.

    .venv/bin/python benchmarks/bench_ingest.py [--lines 1000000] [--pg-lines 200000]
        [--no-sqlite] [--baseline-src [NAME=]OTHER/src ... --rounds 2]
        [--pg-variants all,one_connection]

1. Generates (or reuses) a file of ``--lines`` records in the Kaggle snapshot format with
   ``benchmarks/snapshot_gen.py`` (shapes of the 200 real sample records, fresh ids and texts).
2. Baseline, same file, same run: the raw JSON-parse-only throughput (orjson over every line,
   nothing else), and the source-only throughput (lines -> Paper records, no database).
3. Imports the file into a fresh SQLite store (``paperboy ingest file`` code path:
   ``run_ingest(read_snapshot(...))`` with the CLI's index listener, so the keyword index takes
   in every batch and is committed when the import ends; a large import sets the secondary
   indexes aside and rebuilds them at the end, as the CLI does) in a child process, reporting
   wall time, CPU time and the child's peak RSS (``ru_maxrss``), and the same for the keyword
   index's helper process; the keyword index must hold every paper at the end (checked).
4. The same into PostgreSQL (pgserver) for the first ``--pg-lines`` lines (0 skips it).
   With ``--baseline-src`` (the ``src`` folder of another checkout, e.g. ``git archive main``;
   repeatable, each as ``NAME=PATH``) the PostgreSQL import runs ``--rounds`` times from each
   tree, taking turns, each into a fresh database, and the ratio of the medians to the first
   baseline is printed. ``--pg-variants all,one_connection,connections_3`` adds runs of this
   tree with ``PAPERBOY_PG_FULLTEXT_CONNECTIONS=0`` (the importing connection computes the
   full-text vectors itself) or 3. Each PostgreSQL run also reports the server's CPU seconds
   (every PostgreSQL process, the ones that ended included).

``--compare N`` instead imports the file N times per variant, the variants taking turns
(A B C D A B C D ...), each into a fresh SQLite store, to decide whether a mechanism pays:
``all`` (the code as it is), ``no_gc`` (default collector thresholds), ``core_insert``
(SQLAlchemy Core inserts on SQLite instead of the driver-level path). Medians of records/s and
of the import's CPU seconds are reported with their ratio to ``all``; on a busy machine the CPU
seconds are the steadier figure.

The machine is shared: the 1-minute load average before and after each step is printed, and
figures are given with their ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from snapshot_gen import DEFAULT_SAMPLE, generate  # noqa: E402


def count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 20), b""))


def parse_only(path: Path) -> dict:
    import orjson

    start, cpu = time.perf_counter(), time.process_time()
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
            n += 1
    return {"records": n, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu}


def source_only(path: Path) -> dict:
    from paperboy.sources.snapshot import read_snapshot

    start, cpu = time.perf_counter(), time.process_time()
    n = sum(1 for _ in read_snapshot(path))
    return {"records": n, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu}


VARIANTS = ("all", "no_gc", "core_insert")


def _apply_variant(variant: str) -> None:
    """Switch one mechanism off in this (child) process."""
    import contextlib

    from paperboy.ingest import pipeline
    from paperboy.storage import papers

    if variant == "no_gc" and hasattr(pipeline, "fewer_collections"):
        pipeline.fewer_collections = contextlib.nullcontext
    elif variant == "core_insert" and hasattr(papers, "_insert_plain"):
        def insert_many(conn, table, rows, conflict=(), update=()):
            if not rows:
                return
            if not conflict:
                conn.execute(table.insert(), rows)
                return
            stmt = papers._insert(conn, table)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=list(conflict),
                set_={n: getattr(stmt.excluded, n) for n in update}), rows)

        def insert_plain(conn, table, names, data):
            if data:
                conn.execute(table.insert(), [dict(zip(names, values)) for values in data])

        papers._insert_many, papers._insert_plain = insert_many, insert_plain


def child_import(path: Path, data_dir: Path, database_url: str, limit: int,
                 variant: str = "all") -> dict:
    """Runs in a child process: one import into a fresh store; prints a JSON line."""
    from io import StringIO

    from paperboy.ingest.pipeline import run_ingest
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.sources.snapshot import read_snapshot
    from paperboy.storage import open_store

    values = {"data_dir": data_dir, "database_url": database_url or None}
    if variant == "one_connection":
        values["pg_fulltext_connections"] = 0
    elif variant.startswith("connections_"):
        values["pg_fulltext_connections"] = int(variant.removeprefix("connections_"))
    settings = load_settings(values, environ={})
    store = open_store(settings)
    items = read_snapshot(path)
    if limit:
        items = islice(items, limit)
    _apply_variant(variant)
    start, cpu = time.perf_counter(), time.process_time()
    listener = SearchService(store, settings).upkeep.listener(embed=False)
    report = run_ingest(store, items, "snapshot", progress=False, error_stream=StringIO(),
                        listeners=[listener], bulk_index_after=settings.bulk_index_after)
    out = report.as_dict()
    helper = resource.getrusage(resource.RUSAGE_CHILDREN)  # the keyword index's helper process
    out.update(seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu,
               helper_cpu_seconds=helper.ru_utime + helper.ru_stime,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               helper_peak_rss_mb=helper.ru_maxrss / 1024,
               papers_in_store=store.papers.count(), dialect=store.dialect,
               keyword_index_complete=listener.service.lexical.check())
    store.close()
    return out


def run_child(path: Path, data_dir: Path, database_url: str = "", limit: int = 0,
              variant: str = "all", src: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(path), str(data_dir), database_url, str(limit),
           variant]
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"the import ({variant}, {src or 'this tree'}) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_cpu_seconds(pgdata: Path) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live processes and the ones it
    has reaped (a connection's backend ends with the connection)."""
    import psutil

    root = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    t = root.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in root.children():
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:  # ended meanwhile: counted with the reaped ones
            pass
    return total


def pg_import(path: Path, limit: int, src: Path | None, variant: str = "all") -> dict:
    """One import into a fresh PostgreSQL (pgserver) database, from the code under ``src``."""
    import pgserver

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            before = server_cpu_seconds(Path(server.pgdata))
            out = run_child(path, Path(tmp) / "pgdata", server.get_uri(), limit, variant, src)
            out["server_cpu_seconds"] = round(server_cpu_seconds(Path(server.pgdata)) - before, 2)
            return out
        finally:
            server.cleanup()


def load() -> float:
    return round(os.getloadavg()[0], 2)


def compare(path: Path, rounds: int) -> dict:
    """Each variant ``rounds`` times, in turns; median records/s and ratio to ``all``."""
    import statistics

    rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpus: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        for variant in VARIANTS:
            with tempfile.TemporaryDirectory() as tmp:
                before = load()
                out = run_child(path, Path(tmp) / "sqlite", variant=variant)
            assert out["keyword_index_complete"] and out["papers_in_store"] == out["new"]
            rate = out["new"] / out["seconds"]
            rates[variant].append(rate)
            cpus[variant].append(out["cpu_seconds"])
            print(f"round {r + 1} {variant:12} {rate:7,.0f} records/s  cpu {out['cpu_seconds']:.1f}s"
                  f"  load {before}->{load()}", flush=True)
    rate = {v: statistics.median(x) for v, x in rates.items()}
    cpu = {v: statistics.median(x) for v, x in cpus.items()}
    result = {v: {"median_rate": round(rate[v]), "rate_ratio_to_all": round(rate[v] / rate["all"], 3),
                  "median_cpu_seconds": round(cpu[v], 2),
                  "cpu_ratio_to_all": round(cpu[v] / cpu["all"], 3),
                  "rates": [round(x) for x in rates[v]]}
              for v in VARIANTS}
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--pg-lines", type=int, default=200_000)
    ap.add_argument("--file", type=Path, default=Path(tempfile.gettempdir()) / "pb-bench-snapshot.jsonl")
    ap.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    ap.add_argument("--keep", action="store_true", help="Keep the generated file.")
    ap.add_argument("--no-sqlite", action="store_true", help="Skip the SQLite import.")
    ap.add_argument("--baseline-src", action="append", default=[], metavar="[NAME=]PATH",
                    help="src folder of a baseline tree, run against PostgreSQL in turns "
                    "(repeatable; the ratios are to the first).")
    ap.add_argument("--pg-variants", default="all",
                    help="Comma-separated runs of this tree: all, one_connection, connections_N.")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--compare", type=int, default=0, metavar="N",
                    help="Import N times per variant, in turns (see the module's docstring).")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        path, data_dir, url, limit, variant = args.child
        print(json.dumps(child_import(Path(path), Path(data_dir), url, int(limit), variant)))
        return

    results: dict = {"lines": args.lines, "cpus": os.cpu_count()}
    if not args.file.exists() or count_lines(args.file) != args.lines:
        t = time.perf_counter()
        generate(args.file, args.lines, args.sample)
        results["generate_seconds"] = round(time.perf_counter() - t, 1)
    results["file_mb"] = round(args.file.stat().st_size / 2**20)
    print(f"file: {args.file} ({args.lines:,} lines, {results['file_mb']} MB)", flush=True)

    if args.compare:
        compare(args.file, args.compare)
        if not args.keep:
            args.file.unlink()
        return

    def step(name, fn):
        before = load()
        out = fn()
        out["load_before"], out["load_after"] = before, load()
        out["rate"] = out["records"] / out["seconds"] if "records" in out else \
            (out["new"] + out["updated"] + out["unchanged"]) / out["seconds"]
        results[name] = out
        print(f"{name}: {out['rate']:,.0f} records/s  {json.dumps(out)}", flush=True)

    step("parse_only", lambda: parse_only(args.file))
    step("source_only", lambda: source_only(args.file))
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            step("sqlite", lambda: run_child(args.file, Path(tmp) / "sqlite"))
    if args.pg_lines:
        trees = [(f"postgresql_{v}" if v != "all" else "postgresql", None, v)
                 for v in args.pg_variants.split(",")]
        baselines = []
        for spec in args.baseline_src:
            name, _, src = spec.rpartition("=")
            baselines.append((f"postgresql_{name or 'baseline'}", Path(src).resolve(), "all"))
        trees = [*baselines, *trees]
        for round_no in range(args.rounds):
            for name, src, variant in trees:
                label = f"{name}_{round_no}" if args.rounds > 1 else name
                step(label, lambda src=src, variant=variant: pg_import(args.file, args.pg_lines,
                                                                       src, variant))

        def median(name):
            rates = sorted(results[k]["rate"] for k in results
                           if k == name or k.removeprefix(name + "_").isdigit())
            return rates[len(rates) // 2]
        if baselines:
            first = median(baselines[0][0])
            results["postgresql_ratios_to_" + baselines[0][0]] = {
                name: round(median(name) / first, 2) for name, _, _ in trees}
    base = results["parse_only"]["rate"]
    for name in list(results):
        if isinstance(results[name], dict) and "rate" in results[name] and name != "parse_only":
            results[name]["ratio_to_parse_only"] = round(results[name]["rate"] / base, 3)
    print(json.dumps(results, indent=2))
    if not args.keep:
        args.file.unlink()


if __name__ == "__main__":
    main()
