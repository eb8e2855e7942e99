"""PostgreSQL vectors (pgvector HNSW) against an exact scan in PostgreSQL (run by hand; figures go
to benchmarks/RESULTS.md "## Search speed", "PostgreSQL vectors (pgvector HNSW)").

    .venv/bin/python benchmarks/bench_pgvector.py [--papers 100000] [--queries 200]

A throwaway PostgreSQL 16 from the `pgserver` package (bundled pgvector 0.6.2). Vectors are
synthetic but clustered like real embeddings: 500 random unit "topic" directions in 384
dimensions, each paper's vector its topic plus Gaussian noise (cosine to the topic ~0.8),
re-normalized; queries are drawn the same way. Papers go in through PaperRepository.upsert and
vectors first into ``embeddings`` only, then copied into the pgvector table with one bulk HNSW
build (the path of a database that had vectors before pgvector, and of `paperboy index
rebuild`); then 1,000 vectors re-written through put_embeddings (embeddings row + pgvector row in
one transaction, the graph grown row by row) against the same writes without pgvector.

Measured per query: top-100 through PgVectorIndex.search (HNSW, ef_search 200), and two exact
baselines: the same ORDER BY ... LIMIT query with index scans disabled (``SET LOCAL
enable_indexscan = off``) and the repository's exact scan (``cosine_distance()``); recall@10 and
recall@100 of HNSW against exact. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT / "src"))

DIM = 384
TOPICS = 500
NOISE = 0.75 / np.sqrt(DIM)  # |noise| ~0.75 -> cosine to the topic ~0.8


def unit(m: np.ndarray) -> np.ndarray:
    return (m / np.linalg.norm(m, axis=-1, keepdims=True)).astype(np.float32)


def clustered(rng, topics: np.ndarray, n: int) -> np.ndarray:
    base = topics[rng.integers(0, len(topics), n)]
    return unit(base + rng.normal(scale=NOISE, size=(n, DIM)).astype(np.float32))


def pct(samples_ms: list[float]) -> dict:
    s = sorted(samples_ms)
    return {"p50": round(statistics.median(s), 2),
            "p99": round(s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=2000)
    args = ap.parse_args()

    import pgserver
    from sqlalchemy import text

    from paperboy.records import Paper
    from paperboy.search.pgvectors import PgVectorIndex
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.storage.pgvector import table_name, vector_literal

    print("load average at start:", os.getloadavg())
    rng = np.random.default_rng(0)
    topics = unit(rng.normal(size=(TOPICS, DIM)).astype(np.float32))
    vecs = clustered(rng, topics, args.papers)
    queries = clustered(rng, topics, args.queries)

    with tempfile.TemporaryDirectory(prefix="bench-pgvector-") as tmp:
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        server.psql("CREATE DATABASE bench;")
        base, query = server.get_uri().split("?", 1)
        url = f"postgresql+psycopg://{base.split('://', 1)[1].rsplit('/', 1)[0]}/bench?{query}"
        store = open_store(load_settings({"data_dir": Path(tmp) / "data", "database_url": url},
                                         environ={}))
        repo = store.search
        assert repo.pgvector.available()
        model = "synthetic-384"
        result: dict = {"papers": args.papers, "queries": args.queries, "dim": DIM}

        t0 = time.perf_counter()
        ids = [f"pgv:{i:07d}" for i in range(args.papers)]
        for start in range(0, args.papers, 5000):
            store.papers.upsert([
                Paper(id=pid, title=f"Synthetic paper {pid}", abstract="Synthetic abstract.",
                      authors=["Ada Lovelace"], categories=["cs.LG"], primary_category="cs.LG",
                      version=1, published=datetime(2024, 1, 1), updated=datetime(2024, 1, 1))
                for pid in ids[start:start + 5000]], source="bench")
        print(f"papers stored in {time.perf_counter() - t0:.0f} s")

        # Bulk load as a database that stored vectors before pgvector: embeddings rows only, then
        # the first refresh copies them into the model's table and bulk-builds the HNSW graph
        # (the same path as `paperboy index rebuild`).
        mirror = repo._pg_vectors
        repo._pg_vectors = lambda: None
        for start in range(0, args.papers, args.batch):
            repo.put_embeddings(model, [(pid, "h", v) for pid, v in
                                        zip(ids[start:start + args.batch],
                                            vecs[start:start + args.batch])])
        repo._pg_vectors = mirror
        index = PgVectorIndex(repo, model)
        t0 = time.perf_counter()
        index.refresh()
        result["build_s"] = round(time.perf_counter() - t0, 1)
        print(f"copy {index.size} vectors into pgvector + bulk HNSW build: {result['build_s']} s")

        # The ingest path on the large index: embeddings row + pgvector row in one transaction,
        # the graph grown row by row (re-embedding existing papers with fresh vectors).
        n_inc = min(1000, args.papers)
        fresh = clustered(rng, topics, n_inc)
        t0 = time.perf_counter()
        for start in range(0, n_inc, 250):
            repo.put_embeddings(model, [(pid, "h2", v) for pid, v in
                                        zip(ids[start:start + 250], fresh[start:start + 250])])
        inc_s = time.perf_counter() - t0
        vecs[:n_inc] = fresh
        repo._pg_vectors = lambda: None
        t0 = time.perf_counter()
        for start in range(0, n_inc, 250):
            repo.put_embeddings("baseline-no-pgvector", [
                (pid, "h", v) for pid, v in zip(ids[start:start + 250], fresh[start:start + 250])])
        base_s = time.perf_counter() - t0
        repo._pg_vectors = mirror
        result["put_embeddings_per_s"] = round(n_inc / inc_s)
        result["put_embeddings_without_pgvector_per_s"] = round(n_inc / base_s)
        print(f"put_embeddings on the {args.papers} index: {result['put_embeddings_per_s']}/s "
              f"(embeddings table only: {result['put_embeddings_without_pgvector_per_s']}/s)")
        name = table_name(model)
        with store.engine.begin() as conn:
            conn.execute(text(f"ANALYZE {name}"))
            sizes = conn.execute(text(
                f"SELECT pg_relation_size('{name}'), pg_relation_size('{name}_hnsw')")).one()
        result["table_mb"], result["hnsw_mb"] = (round(s / 2**20) for s in sizes)
        plan = repo.pgvector.explain(model, queries[0], 100)
        assert f"Index Scan using {name}_hnsw" in plan, plan
        doc_of = repo.doc_ids(ids)
        doc_ids = np.array([doc_of[p] for p in ids])

        def no_index_scan(q, k=100):
            with store.engine.connect() as conn:
                conn.execute(text("SET LOCAL enable_indexscan = off"))
                rows = conn.execute(text(
                    f"SELECT /* baseline */ doc_id, vec <=> CAST(:q AS vector) AS dist FROM {name} "
                    "ORDER BY dist LIMIT :k"), {"q": vector_literal(q), "k": k}).all()
            return np.array([r[0] for r in rows])

        # Warm the caches (table and index pages) once.
        for q in queries[:10]:
            index.search(q, 100)
            no_index_scan(q)

        timings: dict[str, list[float]] = {"hnsw": [], "exact_no_indexscan": [], "exact_repository": []}
        recall10, recall100 = [], []
        for q in queries:
            t = time.perf_counter()
            got, _ = index.search(q, 100)
            timings["hnsw"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            truth = no_index_scan(q)
            timings["exact_no_indexscan"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            cte, _ = repo.pgvector.exact(model, q, 100)
            timings["exact_repository"].append((time.perf_counter() - t) * 1000)
            recall100.append(len(set(got.tolist()) & set(truth.tolist())) / 100)
            got10, _ = index.search(q, 10)
            recall10.append(len(set(got10.tolist()) & set(truth[:10].tolist())) / 10)
        # Sanity: the database's exact answers agree with numpy's.
        brute = doc_ids[np.argsort(-(vecs @ queries[0]))[:10]]
        assert len(set(no_index_scan(queries[0], 10).tolist()) & set(brute.tolist())) >= 9

        for key, samples in timings.items():
            result[key] = pct(samples)
        result["recall@10"] = round(float(np.mean(recall10)), 4)
        result["recall@100"] = round(float(np.mean(recall100)), 4)
        result["speedup_p50_vs_no_indexscan"] = round(
            result["exact_no_indexscan"]["p50"] / result["hnsw"]["p50"], 1)

        # Filters (random doc-id sets, the share of the collection given): the served path
        # (exact over the allowed ids when selective, else HNSW over-fetch + post-filter) against
        # the exact scan restricted to the allowed ids.
        for share in (0.01, 0.05, 0.2, 0.6):
            allowed = np.sort(rng.choice(doc_ids, int(args.papers * share), replace=False))
            served, exact_ms, rec = [], [], []
            for q in queries[:40]:
                t = time.perf_counter()
                got, _ = index.search(q, 100, allowed=allowed)
                served.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                exact, _ = repo.pgvector.exact(model, q, 100, allowed)
                exact_ms.append((time.perf_counter() - t) * 1000)
                rec.append(len(set(got[:10].tolist()) & set(exact[:10].tolist())) / 10)
            result[f"filter_{share}"] = {"ids": len(allowed), "served": pct(served),
                                         "exact_restricted": pct(exact_ms),
                                         "recall@10": round(float(np.mean(rec)), 3)}

        # The hybrid path completes dense scores of keyword-only candidates one vector at a time.
        some = doc_ids[rng.choice(len(doc_ids), 100, replace=False)].tolist()
        t = time.perf_counter()
        for d in some:
            index.vector(d)
        result["vector_one_ms"] = round((time.perf_counter() - t) * 1000 / len(some), 3)
        t = time.perf_counter()
        index.vectors(some)
        result["vectors_100_batch_ms"] = round((time.perf_counter() - t) * 1000, 2)

        result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        store.close()
        server.cleanup()

    print(json.dumps(result, indent=2))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pgvector.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
