"""Digest benchmark: compose and send N digests to a local SMTP sink (run by hand).

    .venv/bin/python benchmarks/bench_mail.py                   # 10,000 subscribers, SQLite
    .venv/bin/python benchmarks/bench_mail.py --subscribers 2000 --postgres

Figures go to benchmarks/RESULTS.md "## Mail". What is real and what is generated:

* real: 4,214 arXiv papers (titles, abstracts, authors, categories) from
  ``../shared/data/arxiv-math-2505``; they go in through the real path (PaperRepository.upsert,
  FTS5 triggers), each listed on one of the last 7 days with random upvotes;
* generated: the subscribers (``bench<i>@example.org``, confirmed through the repository), their
  preferences (daily, 1-3 categories of the corpus or all, 5-15 papers) and saved searches: 60%
  have 1-3 alerts drawn Zipf-like from a pool of 300 queries (title bigrams of the corpus plus
  ``author:`` surnames), so popular queries are shared by many subscribers, as on a real site.

Measured in the same run, each on its own copy of the same database:

* **grouped** (Paperboy): :class:`paperboy.mail.digest.DigestJob` as cron runs it — one search
  per distinct normalized query, trending read once, then render, claim, SMTP, record;
* **naive** baseline: the same job with ``group_searches=False`` — one search per saved search
  of every subscriber (what a per-subscriber loop does).

The SMTP sink is aiosmtpd in a separate process (it only counts messages), reached over one
persistent loopback connection, exactly as a production relay would be.
"""

from __future__ import annotations

import argparse
import ast
import csv
import multiprocessing
import random
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "arxiv-math-2505" / "arxiv_data.csv"
STOP = set("a an and are as at be by for from in into is of on or the to with via we our its "
           "their using under over between towards toward new".split())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sink_main(port: int, counter, ready) -> None:
    import asyncio  # noqa: F401 - aiosmtpd runs its own loop

    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:  # pragma: no cover
        controller.stop()


def load_corpus(limit: int | None = None):
    from paperboy.records import Paper

    papers = []
    with open(CORPUS, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                tags = ast.literal_eval(row["tags"])
                authors = ast.literal_eval(row["authors"])
            except (ValueError, SyntaxError):
                continue
            papers.append(Paper(id=row["index"], title=" ".join(row["title"].split()),
                                abstract=row["abstract"], authors=list(authors),
                                categories=list(tags), primary_category=tags[0] if tags else None))
            if limit and len(papers) >= limit:
                break
    return papers


def make_queries(papers, rng: random.Random, n: int = 300) -> list[str]:
    bigrams = Counter()
    for p in papers:
        words = [w.strip(".,:;()").lower() for w in p.title.split()]
        for a, b in zip(words, words[1:]):
            if a.isalpha() and b.isalpha() and a not in STOP and b not in STOP:
                bigrams[f"{a} {b}"] += 1
    surnames = Counter(a.split()[-1] for p in papers for a in p.authors if a.split())
    queries = [q for q, _ in bigrams.most_common(int(n * 0.8))]
    queries += [f"author: {s}" for s, _ in surnames.most_common(n - len(queries)) if s.isalpha()]
    rng.shuffle(queries)
    return queries


def build(data_dir: Path, n_subs: int, seed: int = 7, database_url: str = "") -> dict:
    from paperboy.mail.addresses import normalize_query
    from paperboy.records import Listing
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    rng = random.Random(seed)
    settings = load_settings({"data_dir": data_dir, "database_url": database_url}, environ={})
    store = open_store(settings)
    repo = store.subscriptions
    papers = load_corpus()
    cats = [c for c, _ in Counter(c for p in papers for c in p.categories).most_common(12)]
    queries = make_queries(papers, rng)
    weights = [1.0 / (i + 1) for i in range(len(queries))]  # Zipf-like popularity
    t0 = time.perf_counter()
    alerts = 0
    for i in range(n_subs):
        chosen = [] if rng.random() < 0.3 else rng.sample(cats, rng.randint(1, 3))
        res = repo.subscribe(f"bench{i}@example.org", f"bench{i}@example.org", "daily", chosen,
                             rng.randint(5, 15), now=datetime(2026, 1, 1))
        repo.confirm(res.subscriber.id, res.subscriber.token_nonce)
        if rng.random() < 0.6:
            for q in set(rng.choices(queries, weights, k=rng.randint(1, 3))):
                text, key = normalize_query(q)
                repo.add_saved_search(res.subscriber.id, text, key, now=datetime(2026, 1, 1))
                alerts += 1
    setup_subs = time.perf_counter() - t0
    today = datetime.now(timezone.utc).date()
    for p in papers:
        day = today - timedelta(days=rng.randint(1, 7))
        p.published = datetime(day.year, day.month, day.day, 9)
        p.listing = Listing(source="hf", listed_on=day, upvotes=rng.randint(0, 60),
                            comments=rng.randint(0, 5))
    for start in range(0, len(papers), 1000):
        store.papers.upsert(papers[start:start + 1000], "hf")
    store.close()
    distinct = len({normalize_query(q)[1] for q in queries})
    return {"papers": len(papers), "alerts": alerts, "query_pool": distinct,
            "setup_subscribers_s": setup_subs}


def run_variant(db_dir: Path, port: int, counter, grouped: bool, database_url: str = "") -> dict:
    from paperboy.mail.digest import DigestJob
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.storage import open_store

    settings = load_settings({"data_dir": db_dir, "database_url": database_url,
                              "smtp_host": "127.0.0.1", "smtp_port": port,
                              "smtp_security": "none", "base_url": "https://papers.example.org",
                              "mail_from": "Paperboy <digest@papers.example.org>"}, environ={})
    store = open_store(settings)
    searcher = SearchService(store, settings)
    before = counter.value
    t0 = time.perf_counter()
    job = DigestJob(settings, store, searcher, "daily", group_searches=grouped)
    report = job.run()
    elapsed = time.perf_counter() - t0
    received = counter.value - before
    store.close()
    return {"variant": "grouped" if grouped else "naive", "seconds": elapsed, "sent": report.sent,
            "received": received, "empty": report.empty, "searches": report.searches_run,
            "msgs_per_s": report.sent / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directories")
    ap.add_argument("--postgres", action="store_true",
                    help="run on PostgreSQL (pgserver); each variant on a copy (CREATE DATABASE ... TEMPLATE)")
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"corpus not found: {CORPUS}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-mail-"))
    port = free_port()
    counter = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=sink_main, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(20)
    try:
        base = tmp / "base"
        pg = urls = None
        if args.postgres:
            import pgserver

            pg = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
            prefix, query = pg.get_uri().split("?", 1)
            prefix = "postgresql+psycopg://" + prefix.split("://", 1)[1].rsplit("/", 1)[0]
            urls = {name: f"{prefix}/{name}?{query}" for name in ("mb_base", "mb_grouped", "mb_naive")}
            pg.psql("CREATE DATABASE mb_base;")
        info = build(base, args.subscribers, database_url=urls["mb_base"] if urls else "")
        print(f"{'PostgreSQL' if pg else 'SQLite'}: corpus {info['papers']} papers, "
              f"{args.subscribers} subscribers, {info['alerts']} "
              f"saved searches over {info['query_pool']} distinct queries "
              f"(setup {info['setup_subscribers_s']:.1f}s)", flush=True)
        results = []
        for grouped in (True, False):
            name = "grouped" if grouped else "naive"
            run_dir = tmp / name
            shutil.copytree(base, run_dir)
            if pg:
                pg.psql(f"CREATE DATABASE mb_{name} TEMPLATE mb_base;")
            res = run_variant(run_dir, port, counter, grouped,
                              database_url=urls[f"mb_{name}"] if urls else "")
            results.append(res)
            print(f"{res['variant']:8s} sent {res['sent']} (sink received {res['received']}, "
                  f"empty {res['empty']}) in {res['seconds']:.1f}s = {res['msgs_per_s']:.0f} msg/s, "
                  f"{res['searches']} searches", flush=True)
        g, n = results
        print(f"ratio grouped/naive: {g['msgs_per_s'] / n['msgs_per_s']:.2f}x messages/s, "
              f"{n['searches'] / max(g['searches'], 1):.0f}x fewer searches")
    finally:
        sink.terminate()
        if args.postgres and pg is not None:
            pg.cleanup()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
