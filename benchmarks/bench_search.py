"""Search speed benchmarks (run by hand; figures go to benchmarks/RESULTS.md "## Search speed").

    .venv/bin/python benchmarks/bench_search.py embed --torch /work/stvenv/bin/python  # vs torch
    .venv/bin/python benchmarks/bench_search.py embed --baseline OLD.onnx --reps 5
    .venv/bin/python benchmarks/bench_search.py latency --papers 100000
    .venv/bin/python benchmarks/bench_search.py latency --papers 1000000
    .venv/bin/python benchmarks/bench_search.py ingest --papers 20000   # keyword index cost

The machine is shared (2 cores, other helpers' tests run beside it): every figure is printed
with a baseline measured in the same run.

Synthetic corpus (``latency``): what is real and what is generated —
* real: the SciFact abstracts (5,183) and their sentences, the SciFact titles, the 300 SciFact
  test claims used as queries, and the MiniLM vectors of the real abstracts (computed here);
* generated: each synthetic paper takes the title of a random real abstract ("base") and an
  abstract of 3 sentences of its base plus 3 random sentences from the whole pool; its vector
  is the base's real vector plus Gaussian noise (sigma chosen so cosine to the base is ~0.85),
  re-normalized, so neighbourhoods stay realistic; dates are uniform over 2007..2025,
  categories 1-3 of 20 arXiv categories (Zipf-like), authors from a pool of 50,000 names.
Papers go in through the real path (PaperRepository.upsert), then the keyword index (tantivy)
takes them in by rev, as after any import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
ARXIV = ROOT.parent / "shared" / "data" / "arxiv-math-2505" / "arxiv_data.csv"
OUT = ROOT / "benchmarks" / "out"
CATEGORIES = ["cs.CL", "cs.LG", "cs.AI", "cs.CV", "stat.ML", "cs.IR", "cs.NE", "cs.RO", "q-bio.BM",
              "q-bio.NC", "cs.CR", "cs.DB", "cs.DC", "cs.HC", "math.OC", "physics.med-ph",
              "eess.IV", "cs.SE", "cs.SI", "q-bio.GN"]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_scifact():
    corpus = [json.loads(line) for line in open(SCIFACT / "corpus.jsonl", encoding="utf-8")]
    queries = {json.loads(line)["_id"]: json.loads(line)["text"]
               for line in open(SCIFACT / "queries.jsonl", encoding="utf-8")}
    test_ids = [line.split("\t")[0] for line in open(SCIFACT / "qrels" / "test.tsv")][1:]
    test_queries = [queries[q] for q in dict.fromkeys(test_ids)]
    return corpus, test_queries


def make_embedder(**kw):
    from paperboy.search.embedder import Embedder

    return Embedder(cache_dir=OUT / "models", **kw)


def corpus_vectors(corpus, embedder) -> np.ndarray:
    from paperboy.search.beir import BeirDataset, corpus_vectors as cached

    ds = BeirDataset(SCIFACT, "test")
    return cached(ds, embedder, OUT / "eval-cache", progress=True)


# -- embedding throughput -----------------------------------------------------------------------

def load_arxiv(n: int) -> list[str]:
    import csv

    csv.field_size_limit(1 << 24)
    with open(ARXIV, encoding="utf-8", newline="") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh))]
    return [f"{r['title']}. {r['abstract']}" for r in rows]


class TorchTurns:
    """sentence-transformers on torch in a child process (another Python: torch is not a
    dependency), taking its turns between Paperboy's variants on the same texts."""

    def __init__(self, python: str):
        import subprocess

        self.proc = subprocess.Popen([python, str(ROOT / "benchmarks" / "bench_embed_st.py"), "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.version = json.loads(self.proc.stdout.readline())

    def seconds(self, source: str, n: int) -> float:
        self.proc.stdin.write(f"{source} {n}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["s"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def bench_embed(args) -> None:
    """Every variant on the same texts, in alternating turns, best of --reps (the machine is
    shared): with ``--torch PYTHON``, sentence-transformers on torch takes the first turn of
    each round and the ratios are against it.

    ``--baseline FILE.onnx`` (repeatable) also times an older graph file (e.g. a cached
    ``-g1.onnx``, max 256 tokens) with the old fixed batches of 32, same texts and tokenizer, for
    a before/after ratio."""
    import onnxruntime as ort

    sources = ["scifact", "arxiv"] if args.source == "both" else [args.source]
    variants = [("int8v2 (default on the CPU)", {"precision": "int8"}),
                ("fp32 (PAPERBOY_EMBEDDING_PRECISION=fp32)", {"precision": "fp32"})]
    embedders = [(name, make_embedder(**kw)) for name, kw in variants]
    serial = make_embedder(precision="int8")
    serial.text_parallel = False  # each text's run on both threads, one text at a time
    embedders.append(("int8v2, one run at a time on 2 threads", serial))
    for path in reversed(args.baseline or []):
        old = make_embedder(tokens_per_batch=1 << 30, precision="fp32")  # old batching: 32 texts
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = old.session.get_session_options().intra_op_num_threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        old.session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        embedders.append((f"baseline {Path(path).name[-24:]}, 256", old))
    torch = TorchTurns(args.torch) if args.torch else None
    if torch:
        print(f"baseline: sentence-transformers on torch {torch.version['torch']}, "
              f"{torch.version['threads']} threads, batch 32, max 256 tokens", flush=True)
    ref_name = "sentence-transformers (torch)" if torch else variants[1][0]
    for source in sources:
        if source == "scifact":
            corpus, _ = load_scifact()
            texts = [f"{d['title']}. {d['text']}" for d in corpus[: args.texts]]
        else:
            texts = load_arxiv(args.texts)
        words = statistics.mean(len(t.split()) for t in texts)
        toks = statistics.mean(len(e.ids) for e in embedders[0][1].tokenizer.encode_batch(texts))
        print(f"{source}: {len(texts)} title+abstract texts, {words:.0f} words, {toks:.0f} tokens "
              f"(max 256) on average; {os.cpu_count()} cpus, best of {args.reps}", flush=True)
        names = ([ref_name] if torch else []) + [name for name, _ in embedders]
        rates: dict[str, list[float]] = {name: [] for name in names}
        for name, emb in embedders:
            emb.embed(texts[:16])  # warm up
        vectors = {}
        loads = []
        for rep in range(args.reps):
            loads.append(os.getloadavg()[0])
            if torch:
                rates[ref_name].append(len(texts) / torch.seconds(source, len(texts)))
            for name, emb in embedders:
                started = time.perf_counter()
                vectors[name] = emb.embed(texts)
                rates[name].append(len(texts) / (time.perf_counter() - started))
        loads.append(os.getloadavg()[0])
        print(f"  load average over the rounds: {min(loads):.2f}-{max(loads):.2f}", flush=True)
        ref = rates[ref_name]
        for name in names:
            # the ratio within each round (turns seconds apart share the machine's load), median
            ratio = statistics.median(r / b for r, b in zip(rates[name], ref))
            print(f"  {name:44} best {max(rates[name]):6.1f} abstracts/s, x{max(rates[name]) / max(ref):.2f}; "
                  f"median of per-round ratios x{ratio:.2f} vs {ref_name}", flush=True)
        cos = (vectors[variants[0][0]] * vectors[variants[1][0]]).sum(axis=1)
        print(f"  int8v2 vectors against fp32's: cosine min {cos.min():.5f}, mean {cos.mean():.5f}",
              flush=True)
    if torch:
        torch.close()


# -- synthetic corpus ---------------------------------------------------------------------------

def synthetic_store(n: int, embedder):
    """A SQLite data dir with ``n`` synthetic papers + vectors (built once, then reused)."""
    from paperboy.records import Paper
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.storage.search_index import text_hash

    data_dir = OUT / f"synthetic-{n}"
    settings = load_settings({"data_dir": data_dir}, environ={})
    done_flag = data_dir / "BUILT"
    store = open_store(settings)
    if done_flag.is_file():
        return store, settings, json.loads(done_flag.read_text())
    corpus, _ = load_scifact()
    base_vecs = corpus_vectors(corpus, embedder)
    sentences = [s for d in corpus for s in re.split(r"(?<=[.!?])\s+", d["text"]) if len(s) > 20]
    doc_sents = [re.split(r"(?<=[.!?])\s+", d["text"]) for d in corpus]
    rng = np.random.default_rng(1)
    cat_p = 1.0 / np.arange(1, len(CATEGORIES) + 1)
    cat_p /= cat_p.sum()
    first = date(2007, 1, 1)
    span = (date(2025, 12, 31) - first).days
    names = [f"Author{i} Surname{i % 997}" for i in range(50_000)]
    sigma = 0.035  # cosine(base, noisy) ~ 0.85 at 384 dimensions
    t0 = time.perf_counter()
    ingest_s = embed_s = 0.0
    batch = 5000
    for start in range(0, n, batch):
        m = min(batch, n - start)
        bases = rng.integers(0, len(corpus), m)
        papers = []
        for i, b in enumerate(bases):
            own = doc_sents[b]
            pick = [own[j] for j in rng.choice(len(own), min(3, len(own)), replace=False)]
            pick += [sentences[j] for j in rng.integers(0, len(sentences), 3)]
            rng.shuffle(pick)
            k = int(rng.integers(1, 4))
            cats = list(dict.fromkeys(rng.choice(CATEGORIES, k, p=cat_p).tolist()))
            day = first + timedelta(days=int(rng.integers(0, span)))
            papers.append(Paper(
                id=f"syn:{start + i:07d}", title=corpus[b]["title"], abstract=" ".join(pick),
                authors=[names[j] for j in rng.integers(0, len(names), 3)],
                categories=cats, primary_category=cats[0],
                published=datetime(day.year, day.month, day.day)))
        t = time.perf_counter()
        store.papers.upsert(papers, source="synthetic")
        ingest_s += time.perf_counter() - t
        noisy = base_vecs[bases] + rng.normal(0, sigma, (m, base_vecs.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        t = time.perf_counter()
        store.search.put_embeddings(embedder.model_id, [
            (p.id, text_hash(p.title, p.abstract), v) for p, v in zip(papers, noisy)])
        embed_s += time.perf_counter() - t
        done = start + m
        if done % 50_000 == 0 or done == n:
            print(f"  built {done:,} papers ({done / ingest_s:,.0f}/s upsert, "
                  f"{time.perf_counter() - t0:.0f}s)", flush=True)
    from paperboy.search.service import SearchService

    t = time.perf_counter()
    SearchService(store, settings, embedder=embedder).lexical.rebuild()
    keyword_s = time.perf_counter() - t
    print(f"  keyword index: {n / keyword_s:,.0f} papers/s", flush=True)
    info = {"papers": n, "upsert_per_s": n / ingest_s, "vectors_per_s": n / embed_s,
            "keywords_per_s": n / keyword_s, "build_s": time.perf_counter() - t0}
    done_flag.write_text(json.dumps(info))
    return store, settings, info


def bench_ingest(args) -> None:
    """Cost of keeping the keyword index current during ingest: the same papers upserted alone
    (baseline) and upserted with the import's keyword listener (tantivy, one writer for the
    run, committed at the end), in the same run."""
    import tempfile

    from paperboy.records import Paper
    from paperboy.search.service import IndexListener, SearchService
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    corpus, _ = load_scifact()
    rng = np.random.default_rng(3)
    papers = []
    for i in range(args.papers):
        d = corpus[int(rng.integers(0, len(corpus)))]
        papers.append(Paper(id=f"ing:{i:07d}", title=d["title"], abstract=d["text"],
                            authors=["A One", "B Two", "C Three"], categories=["cs.CL", "cs.LG"],
                            published=datetime(2024, 1, 1)))
    rates = {}
    for label, keywords in (("store only (baseline)", False), ("with the keyword index", True)):
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings({"data_dir": Path(tmp)}, environ={})
            store = open_store(settings)
            listener = IndexListener(SearchService(store, settings), embed=False) if keywords else None
            t = time.perf_counter()
            for start in range(0, len(papers), 2000):
                counts = store.papers.upsert(papers[start:start + 2000], source="bench")
                if listener is not None:
                    listener(counts.changed_ids)
            if listener is not None:
                listener.close()
            rates[label] = len(papers) / (time.perf_counter() - t)
            store.close()
        print(f"  upsert {len(papers):,} papers {label:36} {rates[label]:8,.0f} papers/s", flush=True)
    base = rates["store only (baseline)"]
    print(f"  with the keyword index: {rates['with the keyword index'] / base:.2f}x of the baseline rate")


def percentiles(samples_ms):
    s = sorted(samples_ms)
    return s[len(s) // 2], s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def bench_latency(args) -> None:
    from paperboy.query import SearchFilters
    from paperboy.search.query import parse_query
    from paperboy.search.service import SearchService

    embedder = make_embedder()
    store, settings, info = synthetic_store(args.papers, embedder)
    print(f"corpus: {info['papers']:,} synthetic papers; built at {info['upsert_per_s']:,.0f} "
          f"papers/s through upsert, keyword index at {info.get('keywords_per_s', 0):,.0f}/s")
    _, queries = load_scifact()
    queries = queries[: args.queries]
    svc = SearchService(store, settings, embedder=embedder)
    t = time.perf_counter()
    synced = svc.upkeep.catch_up(progress=True)  # a new index format re-indexes the store here
    if synced:
        print(f"keyword index: {synced:,} papers indexed in {time.perf_counter() - t:.0f}s "
              f"({synced / (time.perf_counter() - t):,.0f}/s)", flush=True)
    t = time.perf_counter()
    n_vec = svc.vectors.size
    print(f"vector index: {n_vec:,} vectors, {'HNSW i8 (usearch)' if svc.vectors.hnsw is not None else 'exact f32'}"
          f", ready in {time.perf_counter() - t:.1f}s; RSS {rss_mb():.0f} MB")
    if args.prepare_only:
        return
    # A server's OS page cache holds its database (4.2 GB at 1M papers on a 24 GB machine):
    # read the file once, so that timings are not of the disk.
    t = time.perf_counter()
    with open(settings.data_dir / "paperboy.db", "rb") as fh:
        while fh.read(1 << 24):
            pass
    print(f"database file read once into the page cache in {time.perf_counter() - t:.1f}s")
    filt = SearchFilters(since=date(2018, 1, 1), until=date(2022, 12, 31), categories=["cs.CL", "cs.LG"])
    narrow = SearchFilters(since=date(2024, 1, 1), until=date(2024, 12, 31), categories=["cs.IR"])
    for flt in (filt, narrow):
        share = len(svc._mask(flt)) / max(1, store.search.doc_count())
        print(f"filter {flt.since}..{flt.until} {'/'.join(flt.categories)}: {share:.1%} of the papers")
    for q in queries[:5]:
        for flt in (None, filt, narrow):
            svc.search(q, flt, limit=20)
    rows = []

    def timed(label, fn, baseline=None):
        ms = []
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            ms.append(1000 * (time.perf_counter() - t0))
        p50, p99 = percentiles(ms)
        rows.append((label, p50, p99))
        ratio = f"  (x{baseline[0] / p50:.2f} p50 vs {baseline[1]})" if baseline else ""
        print(f"  {label:52} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms{ratio}", flush=True)
        return p50

    def interleaved(named):
        """End-to-end rows measured query by query in turn (the order rotating), so that the
        machine's slow and fast spells fall on every row alike."""
        ms = {label: [] for label, _ in named}
        for i, q in enumerate(queries):
            turn = named[i % len(named):] + named[:i % len(named)]
            for label, fn in turn:
                t0 = time.perf_counter()
                fn(q)
                ms[label].append(1000 * (time.perf_counter() - t0))
        for label, _ in named:
            p50, p99 = percentiles(ms[label])
            rows.append((label, p50, p99))
            print(f"  {label:52} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms", flush=True)
        return percentiles(ms[named[0][0]])[0]

    print(f"{len(queries)} SciFact test claims as queries, top 20 hydrated, the rows taking turns:")
    hyb = interleaved([
        ("hybrid (parse+embed+keywords+vectors+fuse+hydrate)", lambda q: svc.search(q, limit=20)),
        ("hybrid + date range + category filter", lambda q: svc.search(q, filt, limit=20)),
        ("hybrid + narrow filter (one year, one category)", lambda q: svc.search(q, narrow, limit=20)),
        ("hybrid, explain=False (no matched terms)", lambda q: svc.search(q, limit=20, explain=False)),
        ("hybrid + filter, explain=False", lambda q: svc.search(q, filt, limit=20, explain=False)),
        ("hybrid + narrow filter, explain=False",
         lambda q: svc.search(q, narrow, limit=20, explain=False)),
        ("lexical only", lambda q: svc.search(q, limit=20, mode="lexical")),
        ("lexical + filter", lambda q: svc.search(q, filt, limit=20, mode="lexical")),
        ("dense only", lambda q: svc.search(q, limit=20, mode="dense")),
        ("dense + filter", lambda q: svc.search(q, filt, limit=20, mode="dense")),
        ("dense + narrow filter", lambda q: svc.search(q, narrow, limit=20, mode="dense")),
    ])
    print(f"RSS while serving (before the baselines load anything): {rss_mb():.0f} MB", flush=True)
    qv = {q: embedder.embed_one(q) for q in queries}
    timed("  part: embed the query", lambda q: embedder.embed_one(q))
    vec_ms = timed("  part: vector top-100 (served index)", lambda q: svc.vectors.search(qv[q], 100))
    # Baseline: exact numpy scan over all vectors (float32 matrix in memory).
    parts = list(store.search.iter_vectors(svc.model_id, 0, 50_000))
    all_ids = np.concatenate([ids for ids, _, _ in parts])
    mat = np.vstack([m for _, m, _ in parts])
    del parts

    def scan(q, k=100):
        # The baseline gets every core for its BLAS (the service limits itself to one thread).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
            s = mat @ qv[q]
        top = np.argpartition(-s, k)[:k]
        return all_ids[top[np.argsort(-s[top])]]

    timed("  baseline: exact numpy scan top-100", scan, (vec_ms, "served index"))
    if svc.vectors.hnsw is not None:
        import paperboy.search.vectors as vectors_mod

        nm = svc._mask(narrow)
        rows_ms = timed("  part: vector top-100, narrow filter, int8 rows",
                        lambda q: svc.vectors.search(qv[q], 100, allowed=nm))
        saved, vectors_mod.EXACT_ROW_US = vectors_mod.EXACT_ROW_US, 1e9
        timed("  baseline: same from the graph, over-fetching by the filter's share", lambda q:
              svc.vectors.search(qv[q], 100, allowed=nm), (rows_ms, "int8 rows"))
        vectors_mod.EXACT_ROW_US = saved
    if svc.vectors.hnsw is not None:
        rec = [len(set(svc.vectors.search(qv[q], 10)[0].tolist()) & set(scan(q, 10).tolist())) / 10
               for q in queries[:100]]
        print(f"  HNSW recall@10 vs exact scan: {statistics.mean(rec):.3f}")
    del mat
    terms = {q: parse_query(q) for q in queries}
    kw_ms = timed("  part: keyword top-100 (tantivy BM25)",
                  lambda q: svc.lexical.search(terms[q].terms, terms[q].phrases, None, 100))
    fm = svc._mask(filt)
    post_ms = timed("  part: keyword top-300 + filter, masked unfiltered ranking",
                    lambda q: svc.lexical.search(terms[q].terms, terms[q].phrases, filt, 300,
                                                 allowed=fm, required=100))
    timed("  baseline: keyword top-300 + filter, tantivy filtering", lambda q: svc.lexical.search(
        terms[q].terms, terms[q].phrases, filt, 300), (post_ms, "masked ranking"))
    if args.fts5_baseline:
        fts = fts5_baseline(store, OUT / f"fts5-baseline-{args.papers}.db")

        def plain_fts(q):
            expr = " OR ".join(f'"{w}"' for w in terms[q].terms)
            fts.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT 100", (expr,)).fetchall()

        timed("  baseline: SQLite FTS5 MATCH ... ORDER BY rank LIMIT 100", plain_fts,
              (kw_ms, "tantivy"))
    try:
        import bm25s  # noqa: F401
        print("  bm25s installed: not benchmarked here")
    except ImportError:
        print("  bm25s: not installed (not a dependency), no bm25s baseline")
    print(f"RSS at the end (after the exact-scan baseline): {rss_mb():.0f} MB (peak {peak_mb():.0f} MB)")
    print(f"hybrid p50 {hyb:.1f} ms")


def fts5_baseline(store, path: Path):
    """The first version's keyword index, for comparison: FTS5 (Porter over unicode61) over the
    same papers, keyed by doc id, in a separate SQLite file (built once)."""
    import sqlite3

    fresh = not path.is_file()
    conn = sqlite3.connect(path)
    if fresh:
        t = time.perf_counter()
        conn.execute("CREATE VIRTUAL TABLE f USING fts5(title, abstract, "
                     "tokenize='porter unicode61 remove_diacritics 2')")
        rev = 0
        while True:
            rows = store.search.keyword_docs(rev, 20_000)
            if not rows:
                break
            conn.executemany("INSERT INTO f(rowid, title, abstract) VALUES (?, ?, ?)",
                             [(r[0], r[2], r[3]) for r in rows])
            rev = rows[-1][1]
        conn.commit()
        print(f"  (FTS5 baseline index built in {time.perf_counter() - t:.0f}s)", flush=True)
    return conn


def peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    e = sub.add_parser("embed")
    e.add_argument("--texts", type=int, default=256)
    e.add_argument("--source", choices=["scifact", "arxiv", "both"], default="both")
    e.add_argument("--reps", type=int, default=3)
    e.add_argument("--baseline", action="append",
                   help="an older .onnx graph file to time alongside (before/after); repeatable")
    e.add_argument("--torch", metavar="PYTHON",
                   help="a Python with torch + sentence-transformers: its turn comes first in "
                        "each round and the ratios are against it (bench_embed_st.py)")
    lat = sub.add_parser("latency")
    lat.add_argument("--papers", type=int, default=100_000)
    lat.add_argument("--queries", type=int, default=300)
    lat.add_argument("--fts5-baseline", action="store_true",
                     help="also build an FTS5 index of the same papers and time it (the old index)")
    lat.add_argument("--prepare-only", action="store_true",
                     help="build the corpus and the vector index file, measure nothing")
    ing = sub.add_parser("ingest")
    ing.add_argument("--papers", type=int, default=20_000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "src"))
    {"embed": bench_embed, "latency": bench_latency, "ingest": bench_ingest}[args.what](args)


if __name__ == "__main__":
    main()
