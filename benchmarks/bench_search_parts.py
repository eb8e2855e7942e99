"""Where a hybrid search's time goes on a large store: its parts one at a time, and how many
rounds (list reads, ever deeper until the page is certain) each search takes.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_search_parts.py --data-dir DIR [--queries 150]

DIR is a store built by ``bench_search.py latency --prepare-only``. The query is embedded as the
store's vectors were (``auto`` follows the store). Filter = published 2018-2022 and cs.CL or
cs.LG, as in the latency rows of RESULTS.md. Prints median / p90 ms per part, then the searches
grouped by the depths their vector side was read at, with their wall p50 and maximum.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()
    from paperboy.embedding import store_precision
    from paperboy.query import SearchFilters
    from paperboy.search.embedder import Embedder
    from paperboy.search.query import parse_query
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    settings = load_settings({"data_dir": args.data_dir}, environ={})
    store = open_store(settings)
    embedder = Embedder(cache_dir=ROOT / "benchmarks" / "out" / "models",
                        precision=store_precision(settings, store.search.has_embeddings))
    svc = SearchService(store, settings, embedder=embedder)
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as fh:
        claims = [json.loads(line)["text"] for line in fh]
    queries = claims[-args.queries:]
    flt = SearchFilters(since=date(2018, 1, 1), until=date(2022, 12, 31), categories=["cs.CL", "cs.LG"])
    mask = svc._mask(flt)
    lex, vectors = svc.lexical, svc.vectors
    parts: dict[str, list[float]] = {}

    def timed(name, fn, *args, **kwargs):
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        parts.setdefault(name, []).append(1000 * (time.perf_counter() - started))
        return result

    for q in queries[:5] + queries:  # the first five warm up
        p = parse_query(q)
        timed("keyword top-100", lex.search, p.terms, p.phrases, None, 100, allowed=None, required=100)
        timed("keyword top-100 + filter (masked)", lex.search, p.terms, p.phrases, flt, 100,
              allowed=mask, required=100)
        timed("matching papers counted", lex.count, p.terms, p.phrases, None)
        kq = lex._query(p.terms, p.phrases, None)
        if not kq.is_empty:  # the unfiltered count without BM25 (not used: slower)
            timed("  (unfiltered, unscored)", lambda: lex.index.index.searcher().search(
                lex.index._text_query(kq), 1, count=True, order_by_field="doc_id").count)
        timed("matching papers counted + filter", lex.count, p.terms, p.phrases, flt)
        kq = lex._query(p.terms, p.phrases, flt)
        if not kq.is_empty:  # the form counted before: BM25 on, the filter nested and scored 0
            timed("  (counted as before: scored, nested filter)",
                  lambda: lex.index.index.searcher().search(lex.index._query(kq), 1, count=True).count)
        timed("keyword index head (filter columns' freshness)", lex.index.committed_cursor)
        qvec = timed("embed the query (1 thread)", embedder.embed_one, q, single_thread=True)
        near = timed("vector top-100", vectors.search, qvec, 100, allowed=None)
        timed("vector top-100 + filter", vectors.search, qvec, 100, allowed=mask)
        timed("exact BM25 of the 100 vector hits", lex.scores, p.terms, p.phrases, near[0])
    for name, ms in parts.items():
        ms = sorted(ms[5:])
        print(f"{name:48} p50 {ms[len(ms) // 2]:6.2f}  p90 {ms[int(0.9 * len(ms))]:6.2f} ms", flush=True)

    depths: list[int] = []
    search = vectors.search

    def counted(qvec, k, allowed=None):
        depths.append(k)
        return search(qvec, k, allowed=allowed)

    vectors.search = counted
    for f, label in ((None, "hybrid"), (flt, "hybrid + filter")):
        for q in queries[:5]:
            svc.search(q, f, limit=20, explain=False)
        by_depths: dict[tuple[int, ...], list[float]] = collections.defaultdict(list)
        for q in queries:
            depths.clear()
            started = time.perf_counter()
            svc.search(q, f, limit=20, explain=False)
            by_depths[tuple(depths)].append(1000 * (time.perf_counter() - started))
        for read, ms in sorted(by_depths.items()):
            ms.sort()
            print(f"{label:16} depths {read}: {len(ms)} searches, wall p50 {ms[len(ms) // 2]:.1f} ms, "
                  f"max {ms[-1]:.1f}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
