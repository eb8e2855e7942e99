"""What a search costs as its caller sees it: the search, then the page's papers read once.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_page_latency.py --data-dir DIR [--queries 150]

DIR is a store built by ``bench_search.py latency --prepare-only`` (synthetic papers, real
SciFact text and vectors). The script runs whatever source tree is first on PYTHONPATH, so two
trees (e.g. this branch and its starting commit, on copies of the same store) can take turns
and be compared in one session. Rows take turns query by query, so slow and fast spells of a
shared machine fall on every row alike. Prints one JSON line of p50/p99 (ms) per row.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


def percentiles(ms: list[float]) -> tuple[float, float]:
    s = sorted(ms)
    return round(s[len(s) // 2], 2), round(s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--label", default="")
    parser.add_argument("--read-db", action="store_true", help="read the database file once first")
    parser.add_argument("--count-alone", choices=("auto", "always", "never"), default="auto",
                        help="whether a filtered hybrid search gives the count a core of its own "
                             "(auto: the code's rule, by index size); to place that rule")
    args = parser.parse_args()
    try:
        from paperboy.query import SearchFilters
    except ImportError:  # the layout before paperboy.query (commit 812b365, the baseline)
        from paperboy.search.api import SearchFilters  # type: ignore[no-redef]
    from paperboy.search.embedder import Embedder
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    settings = load_settings({"data_dir": args.data_dir}, environ={})
    store = open_store(settings)
    try:  # the query is embedded as the store's vectors were (auto follows the store)
        from paperboy.embedding import store_precision
    except ImportError:  # before the precision setting: fp32 unless PAPERBOY_EMBEDDING_INT8
        embedder = Embedder(cache_dir=ROOT / "benchmarks" / "out" / "models")
    else:
        embedder = Embedder(cache_dir=ROOT / "benchmarks" / "out" / "models",
                            precision=store_precision(settings, store.search.has_embeddings))
    svc = SearchService(store, settings, embedder=embedder)
    if args.count_alone != "auto":
        forced = args.count_alone == "always"
        svc.lexical.count_is_long = lambda flt: forced and flt is not None
    if args.read_db:  # a server's page cache holds its database: timings not of the disk
        with open(args.data_dir / "paperboy.db", "rb") as fh:
            while fh.read(1 << 24):
                pass
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    claims = [json.loads(line)["text"] for line in open(SCIFACT / "queries.jsonl", encoding="utf-8")]
    queries = claims[-args.queries:]  # the last claims (test ids are the higher ones)
    wide = SearchFilters(since=date(2018, 1, 1), until=date(2022, 12, 31), categories=["cs.CL", "cs.LG"])

    def page(q, flt=None, mode="hybrid"):
        res = svc.search(q, flt, limit=20, mode=mode, explain=False)
        if res.hits and getattr(res.hits[0], "paper", None) is None:
            store.papers.get_many([h.id for h in res.hits])  # the caller reads the page once
        return res

    rows = {"hybrid": lambda q: page(q), "hybrid + date/category filter": lambda q: page(q, wide),
            "lexical": lambda q: page(q, mode="lexical"), "dense": lambda q: page(q, mode="dense")}
    for q in queries[:10]:
        for fn in rows.values():
            fn(q)
    times: dict[str, list[float]] = {name: [] for name in rows}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for i, q in enumerate(queries):
        names = list(rows)
        for name in names[i % len(names):] + names[:i % len(names)]:
            started, started_cpu = time.perf_counter(), time.process_time()
            rows[name](q)
            times[name].append(1000 * (time.perf_counter() - started))
            cpu[name].append(1000 * (time.process_time() - started_cpu))
    # Wall p50/p99, then the median CPU time of the process (all its threads): on a machine
    # shared with other jobs the CPU time shows the work itself, the wall time also the waiting.
    print(json.dumps({"label": args.label, "papers": store.search.doc_count(), "model": embedder.model_id,
                      "vectors": svc.vectors.size,
                      "filter_share": round(len(svc._mask(wide)) / max(1, store.search.doc_count()), 4),
                      "load": [load_before, Path("/proc/loadavg").read_text().split()[:3]],
                      **{name: [*percentiles(ms), round(sorted(cpu[name])[len(ms) // 2], 2)]
                         for name, ms in times.items()}}), flush=True)
    store.close()


if __name__ == "__main__":
    main()
