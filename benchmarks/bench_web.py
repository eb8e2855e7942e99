"""Web benchmark: server time of the feed, a paper page and a search page with 100k papers
stored, and requests/s under a loopback load generator against `paperboy serve --workers 2`.

    .venv/bin/python benchmarks/bench_web.py [--papers 100000] [--duration 15] [--concurrency 16]
        [--only feed,"paper page"] [--no-load]   # a quick run: some pages, no load generator

Corpus (built once into benchmarks/out/web/, reused while the paper count matches): texts are
real sentences and titles (the Kaggle arXiv sample and the Hugging Face daily-papers capture in
../shared/data) recombined per paper; ids, dates and votes are generated: 100 days ending
2024-10-25, about 1,000 papers a day, 4% of them listed on the daily feed with log-normal
upvotes, the rest only "published" (the feed falls back to their first-version day). Search
is the real SearchService (full-text index + vectors, hybrid mode). Vectors: the first 500
papers are embedded for real with MiniLM; every other paper gets the vector of a random real one
plus Gaussian noise (renormalized), so the 100k-vector index has realistic neighbourhoods without
~30 minutes of embedding on 2 cores. Queries are embedded for real at search time.

Server time is the app's own ``Server-Timing: app;dur=`` header (request in, response start),
measured sequentially; the baseline is /robots.txt (a trivial route through the same middleware
stack) and /static/css/paperboy.css, measured in the same run. The load generator is a lean asyncio HTTP/1.1 keep-alive client in
this process (httpx's own overhead would dominate), so it competes with the two server workers
for the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out" / "web"
LAST_DAY = date(2024, 10, 25)
DAYS = 100
ORGS = ["Google DeepMind", "Meta AI", "Microsoft Research", "Tsinghua University", "NVIDIA",
        "Stanford University", "Alibaba", "MIT", "Hugging Face", "ETH Zurich"]
CATS = [["cs.LG", "cs.AI"], ["cs.CL"], ["cs.CV"], ["cs.CL", "cs.LG"], ["cs.CV", "cs.LG"],
        ["cs.AI"], ["stat.ML", "cs.LG"]]


def _text_pool():
    titles, sentences, authors = [], [], []
    sample = SHARED / "arxiv-kaggle-sample" / "arxiv-metadata-oai-snapshot.sample.jsonl"
    for line in sample.read_text().splitlines():
        rec = json.loads(line)
        titles.append(" ".join(rec["title"].split()))
        sentences += [s.strip() for s in re.split(r"(?<=\.)\s+", " ".join(rec["abstract"].split()))
                      if len(s) > 30]
        authors += [" ".join(p[1:2] + p[:1]).strip() for p in rec.get("authors_parsed", [])]
    hf = json.loads((SHARED / "hf-daily-papers" / "daily_papers_2024-10-25.json").read_text())
    for entry in hf:
        titles.append(" ".join(entry["paper"]["title"].split()))
        sentences += [s.strip() for s in re.split(r"(?<=\.)\s+",
                                                   " ".join(entry["paper"]["summary"].split()))
                      if len(s) > 30]
        authors += [a["name"] for a in entry["paper"]["authors"]]
    return titles, sentences, sorted(set(a for a in authors if a))


def build_corpus(store, n: int, seed: int = 7) -> None:
    from paperboy.records import Listing, Paper

    rng = random.Random(seed)
    titles, sentences, authors = _text_pool()
    per_day = math.ceil(n / DAYS)
    batch: list[Paper] = []
    started = time.monotonic()
    for i in range(n):
        day = LAST_DAY - timedelta(days=i // per_day)
        published = datetime.combine(day - timedelta(days=1), datetime.min.time()) + timedelta(
            seconds=rng.randrange(86400))
        words = rng.choice(titles).split()
        cut = rng.randrange(max(1, len(words) // 2), len(words) + 1)
        title = " ".join(words[:cut] + rng.choice(titles).split()[:rng.randrange(2, 6)])
        cats = rng.choice(CATS)
        listing = None
        org = None
        if rng.random() < 0.04:
            org = rng.choice(ORGS) if rng.random() < 0.4 else None
            listing = Listing(source="hf", listed_on=day,
                              upvotes=int(rng.lognormvariate(2.0, 1.2)),
                              comments=rng.randrange(0, 6), submitter=f"user{rng.randrange(300)}",
                              organization=org)
        batch.append(Paper(
            id=f"{day:%y%m}.{i % 100000:05d}" if n <= 100000 else f"{day:%y%m}.{i:06d}",
            title=title,
            abstract=" ".join(rng.sample(sentences, 6)),
            authors=rng.sample(authors, rng.randrange(2, 9)),
            categories=list(cats), primary_category=cats[0], version=1,
            published=published, updated=published, organization=org, listing=listing,
        ))
        if len(batch) == 2000:
            _flush(store, batch)
            batch = []
            print(f"\r  stored {i + 1:,}/{n:,} ({time.monotonic() - started:.0f}s)", end="",
                  file=sys.stderr, flush=True)
    _flush(store, batch)
    print(file=sys.stderr)


def seed_vectors(store, settings, exact: int = 500, noise: float = 0.03, seed: int = 11) -> None:
    """Real embeddings for ``exact`` papers, noisy copies of them for the rest."""
    import numpy as np
    from sqlalchemy import select

    from paperboy.search.service import SearchService
    from paperboy.storage.schema import papers
    from paperboy.storage.search_index import embed_text, text_hash

    svc = SearchService(store, settings)
    with store.engine.connect() as conn:
        rows = conn.execute(select(papers.c.id, papers.c.title, papers.c.abstract)
                            .order_by(papers.c.id)).all()
    t0 = time.monotonic()
    real = svc.embedder.embed([embed_text(t, a) for _, t, a in rows[:exact]], progress=True)
    print(f"  embedded {len(real)} papers in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    store.search.put_embeddings(svc.model_id, [(pid, text_hash(t, a), v) for (pid, t, a), v
                                               in zip(rows[:exact], real)])
    rng = np.random.default_rng(seed)
    for start in range(exact, len(rows), 5000):
        chunk = rows[start:start + 5000]
        print(f"\r  vectors {start + len(chunk):,}/{len(rows):,}", end="", file=sys.stderr, flush=True)
        base = real[rng.integers(0, len(real), len(chunk))]
        vecs = base + rng.normal(0, noise, base.shape).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        store.search.put_embeddings(svc.model_id, [(pid, text_hash(t, a), v) for (pid, t, a), v
                                                   in zip(chunk, vecs)])
    svc.vectors.refresh()  # builds and saves the index file the server workers load
    svc.vectors.save()


def _flush(store, batch) -> None:
    listed = [p for p in batch if p.listing]
    plain = [p for p in batch if not p.listing]
    if plain:
        store.papers.upsert(plain, source="arxiv")
    if listed:
        store.papers.upsert(listed, source="hf")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, PAPERBOY_DATA_DIR=str(data_dir), PAPERBOY_INGEST_INTERVAL_MINUTES="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "-q", "serve", "--port", str(port),
         "--workers", str(workers), "--no-schedule"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/robots.txt", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read()}")
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)  # it may still be starting: do not leave it behind
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        err = ""
    raise SystemExit(f"server did not start in 120 s: {err[-2000:]}")


def url_sets(store, rng: random.Random, k: int) -> dict[str, list[str]]:
    from sqlalchemy import select

    from paperboy.storage.schema import papers

    with store.engine.connect() as conn:
        ids = list(conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars())
    titles, _, _ = _text_pool()
    words = [w.strip(",.:;()").lower() for t in titles for w in t.split() if len(w) > 5]
    days = [LAST_DAY - timedelta(days=d) for d in range(30)]
    return {
        "feed (latest day, /)": ["/"] * k,
        "feed (a day, /papers?date=)": [f"/papers?date={rng.choice(days)}" for _ in range(k)],
        "paper page": [f"/papers/{rng.choice(ids)}" for _ in range(k)],
        "search page": [f"/search?q={'+'.join(rng.sample(words, 2))}" for _ in range(k)],
        "similar fragment (after paper)": [f"/papers/{rng.choice(ids)}/similar?partial=1"
                                           for _ in range(k)],
        "baseline /robots.txt": ["/robots.txt"] * k,
        "baseline static css": ["/static/css/paperboy.css"] * k,
    }


def sequential(port: int, urls: dict[str, list[str]]) -> dict[str, dict]:
    import http.client

    results = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for name, paths in urls.items():
        for p in paths[:10]:  # warm-up (template compile, caches) on both workers
            conn.request("GET", p)
            conn.getresponse().read()
        server, wall, errors = [], [], 0
        for p in paths:
            t0 = time.perf_counter()
            conn.request("GET", p)
            r = conn.getresponse()
            r.read()
            wall.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                errors += 1
            m = re.search(r"dur=([\d.]+)", r.getheader("server-timing") or "")
            if m:
                server.append(float(m.group(1)))
        print(f"  {name}: server p50 {statistics.median(server):.1f} ms", file=sys.stderr,
              flush=True)
        results[name] = {
            "n": len(paths), "errors": errors,
            "server_p50_ms": round(statistics.median(server), 2),
            "server_p99_ms": round(pct(server, 99), 2),
            "client_p50_ms": round(statistics.median(wall), 2),
        }
    conn.close()
    return results


async def _fetch(reader, writer, path: str) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; returns the status."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if m:
        await reader.readexactly(int(m.group(1)))
    else:  # chunked
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _load(port: int, paths: list[str], duration: float, concurrency: int,
                latencies: list[float] | None = None) -> dict:
    """A lean loopback load generator: ``concurrency`` keep-alive connections, random paths
    (each latency in ms is also appended to ``latencies`` when given)."""
    done = errors = 0
    latencies = [] if latencies is None else latencies
    stop_at = time.monotonic() + duration

    async def worker(seed: int):
        nonlocal done, errors
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    if await _fetch(reader, writer, rng.choice(paths)) != 200:
                        errors += 1
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                latencies.append((time.perf_counter() - t0) * 1000)
                done += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"requests": done, "errors": errors, "rps": round(done / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(pct(latencies, 99), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200, help="sequential requests per page type")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of each load run")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="",
                    help="comma-separated words: measure only the pages whose name has one of "
                         "them (e.g. 'feed,paper'); the baselines are always measured")
    ap.add_argument("--no-load", action="store_true", help="skip the load-generator runs")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    data_dir = OUT / f"{args.papers}"
    settings = load_settings({"data_dir": data_dir}, environ={})
    store = open_store(settings)
    if store.papers.count() != args.papers:
        print(f"building a corpus of {args.papers:,} papers in {data_dir} ...", file=sys.stderr)
        t0 = time.monotonic()
        build_corpus(store, args.papers)
        print(f"  built in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    if store.search.count_missing_embeddings(settings.embedding_model):
        seed_vectors(store, settings)
    from paperboy.search.service import SearchService

    # As `paperboy up` does before serving: the keyword index takes in every stored paper.
    SearchService(store, settings).upkeep.catch_up()
    rng = random.Random(1)
    all_urls = urls = url_sets(store, rng, args.requests)
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        urls = {name: paths for name, paths in urls.items()
                if name.startswith("baseline") or any(w in name for w in words)}
    listed_days = store.papers.stats()["listing_days"]
    store.close()

    port = free_port()
    t0 = time.monotonic()
    # a SIGTERM (e.g. from `timeout`) must still stop the server below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proc = start_server(data_dir, port, args.workers)
    print(f"server up in {time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
    try:
        seq = sequential(port, urls)
        load_pages = load_fp = load_base = None
        if not args.no_load:
            mixed = (all_urls["feed (a day, /papers?date=)"] * 2 + all_urls["paper page"] * 2
                     + all_urls["search page"])
            load_pages = asyncio.run(_load(port, mixed, args.duration, args.concurrency))
            print(f"load (feed, paper, search): {load_pages}", file=sys.stderr, flush=True)
            feed_paper = all_urls["feed (a day, /papers?date=)"] + all_urls["paper page"]
            load_fp = asyncio.run(_load(port, feed_paper, args.duration, args.concurrency))
            print(f"load (feed, paper): {load_fp}", file=sys.stderr, flush=True)
            load_base = asyncio.run(_load(port, ["/robots.txt"], args.duration, args.concurrency))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)

    report = {"papers": args.papers, "listing_days": listed_days, "workers": args.workers,
              "concurrency": args.concurrency, "sequential": seq,
              "load_pages": load_pages, "load_feed_paper": load_fp,
              "load_baseline_robots": load_base,
              "load_average_after": os.getloadavg()}
    print(json.dumps(report, indent=2))
    base50 = seq["baseline /robots.txt"]["server_p50_ms"]
    print("\n| page | server p50 ms | server p99 ms | client p50 ms | errors | p50 / robots.txt |")
    print("|---|---|---|---|---|---|")
    for name, r in seq.items():
        ratio = r["server_p50_ms"] / base50 if base50 else float("nan")
        print(f"| {name} | {r['server_p50_ms']} | {r['server_p99_ms']} | {r['client_p50_ms']} "
              f"| {r['errors']}/{r['n']} | {ratio:.1f}x |")
    if load_pages is None:
        return
    print(f"\nload, {args.workers} workers, {args.concurrency} connections, {args.duration:.0f}s: "
          f"pages mix {load_pages['rps']} req/s ({load_pages['errors']} errors, p50 "
          f"{load_pages['p50_ms']} ms, p99 {load_pages['p99_ms']} ms); feed+paper only "
          f"{load_fp['rps']} req/s ({load_fp['errors']} errors, p50 {load_fp['p50_ms']} ms, "
          f"p99 {load_fp['p99_ms']} ms); /robots.txt "
          f"{load_base['rps']} req/s ({load_base['errors']} errors); ratio "
          f"{load_pages['rps'] / load_base['rps']:.2f}")


if __name__ == "__main__":
    main()
