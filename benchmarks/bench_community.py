"""Community benchmark: trending over a large store, vote writes, and concurrent votes over HTTP.

    .venv/bin/python benchmarks/bench_community.py [--papers 100000] [--votes 300000] [--postgres]

Corpus (generated into a temporary data directory): ``--papers`` papers listed over the 365 days
ending 2024-10-25 (about 270 a day), imported Hugging Face upvotes log-normal, and ``--votes``
local upvotes by 5,000 users spread Zipf-like over the papers (inserted in bulk, then the
``paper_stats`` counters rebuilt with ``recount``). Titles and abstracts are short generated
strings: they play no part in ranking.

Figures, each with its baseline from the same run:

1. Trending as the site computes it (``FeedRepository.trending`` for /trending, and
   ``listed(week|month, "trending")`` for ``sort=trending``): the period's candidates come from the
   ``listed_on`` index and local votes from the maintained counters. Baseline: the naive way, which
   scores every paper in the store from a ``COUNT(*) ... GROUP BY`` over the whole votes table.
2. One vote (``set_upvote``: visibility check, idempotent insert, atomic counter update, one
   transaction). Baseline: a bare one-row INSERT in its own transaction on the same database.
3. 50 clients voting at once on one paper through a live server (uvicorn, real HTTP, Bearer
   tokens): votes/s, errors, and whether the count is exact. Baseline: the same clients reading
   the paper's counts (GET) at the same concurrency.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select  # noqa: E402

from paperboy import trending as formula  # noqa: E402
from paperboy.records import Listing, Paper  # noqa: E402
from paperboy.settings import load_settings  # noqa: E402
from paperboy.storage import open_store  # noqa: E402
from paperboy.storage.feeds import Period  # noqa: E402
from paperboy.storage.schema import daily_listings, upvotes, users  # noqa: E402

LAST_DAY = date(2024, 10, 25)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def timed(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def build(store, n_papers: int, n_votes: int, rng: random.Random) -> list[str]:
    t0 = time.perf_counter()
    ids = []
    batch = []
    for i in range(n_papers):
        day = LAST_DAY - timedelta(days=i % 365)
        pid = f"{2000 + i // 100000:04d}.{i % 100000:05d}"
        ids.append(pid)
        batch.append(Paper(
            id=pid, title=f"Paper {i} on topic {i % 97}", abstract=f"Abstract of paper {i}.",
            authors=[f"Author {i % 5000}", f"Author {(i * 7) % 5000}"], categories=["cs.LG"],
            primary_category="cs.LG", version=1,
            published=datetime.combine(day - timedelta(days=2), datetime.min.time()),
            listing=Listing(source="hf", listed_on=day,
                            upvotes=int(math.exp(rng.gauss(1.5, 1.2))), comments=rng.randrange(4)),
        ))
        if len(batch) == 5000:
            store.papers.upsert(batch, source="hf")
            batch = []
    if batch:
        store.papers.upsert(batch, source="hf")
    print(f"  {n_papers} papers stored in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    now = datetime(2024, 10, 25, 12)
    n_users = 5000
    with store.engine.begin() as conn:
        conn.execute(insert(users), [
            {"username": f"u{i}", "username_key": f"u{i}", "email": f"u{i}@example.org",
             "email_key": f"u{i}@example.org", "password_hash": "$argon2id$unused",
             "is_admin": False, "disabled": False, "created_at": now, "password_changed_at": now}
            for i in range(n_users)])
        user_ids = list(conn.execute(select(users.c.id)).scalars())
    pairs = set()
    while len(pairs) < n_votes:
        # Zipf-like: a few papers get many votes
        pairs.add((rng.choice(user_ids), ids[min(n_papers - 1, int(rng.paretovariate(1.1)) - 1)]
                   if rng.random() < 0.5 else rng.choice(ids)))
    rows = [{"user_id": u, "paper_id": p, "created_at": now} for u, p in pairs]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 20000):
            conn.execute(insert(upvotes), rows[start : start + 20000])
    store.community.recount()
    print(f"  {n_votes} votes + counters in {time.perf_counter() - t0:.1f}s", flush=True)
    return ids


def naive_trending(store, limit=30):
    """Baseline: score every paper from whole-table aggregates, as a naive site would."""
    with store.engine.connect() as conn:
        local = dict(conn.execute(select(upvotes.c.paper_id, func.count()).group_by(upvotes.c.paper_id)).all())
        rows = conn.execute(select(daily_listings.c.paper_id, func.max(daily_listings.c.listed_on),
                                   func.max(daily_listings.c.upvotes), func.max(daily_listings.c.comments))
                            .group_by(daily_listings.c.paper_id)).all()
    ref = formula.reference_time(LAST_DAY, datetime.now())
    scored = [(formula.score(formula.points(up or 0, local.get(pid, 0), cm or 0, 0),
                             formula.age_hours(day, ref)), pid) for pid, day, up, cm in rows]
    scored.sort(reverse=True)
    return [pid for _, pid in scored[:limit]]


def bench_trending(store, runs):
    week = Period.week_of(LAST_DAY)
    month = Period.month_of(LAST_DAY)
    site_week = timed(lambda: store.feeds.listed(week, "trending", limit=30), runs)
    site_month = timed(lambda: store.feeds.listed(month, "trending", limit=30), runs)
    site_trending = timed(lambda: store.feeds.trending(days=7, limit=30), runs)
    naive = timed(lambda: naive_trending(store), max(5, runs // 5))
    return {"week": site_week, "month": site_month, "trending7": site_trending, "naive": naive}


def bench_votes(store, ids, runs, rng):
    user = store.accounts.create_user("bench-voter", "bench@example.org", "$argon2id$unused")
    targets = rng.sample(ids, runs)
    vote = timed(lambda: store.community.set_upvote(user.id, targets.pop(), on=True), runs)
    scratch = Table("bench_scratch", MetaData(), Column("id", Integer, primary_key=True),
                    Column("v", String(64)))
    scratch.create(store.engine, checkfirst=True)

    def bare():
        with store.engine.begin() as conn:
            conn.execute(insert(scratch).values(v="x"))

    base = timed(bare, runs)
    scratch.drop(store.engine)
    return vote, base


def bench_http(store, settings, pid, clients=50, per_client=10):
    import httpx
    import uvicorn

    from paperboy.web.app import create_app

    tokens = []
    for i in range(clients):
        u = store.accounts.create_user(f"http{i}", f"http{i}@example.org", "$argon2id$unused")
        tokens.append(store.accounts.create_api_token(u.id, "bench")[0])
    app = create_app(settings, store, searcher=False)
    app.state.rate_limiter.rules.pop("vote:ip", None)  # one address plays 50 clients here
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    before = store.community.counts([pid])[pid].upvotes_local

    def storm(method, path_fn, body_fn):
        barrier = threading.Barrier(clients)
        codes = []
        lock = threading.Lock()

        def worker(i):
            with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {tokens[i]}"}) as c:
                barrier.wait()
                for k in range(per_client):
                    r = c.request(method, base + path_fn(i, k), json=body_fn(k))
                    with lock:
                        codes.append(r.status_code)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return len(codes) / (time.perf_counter() - t), codes

    # every client: vote, unvote, vote, ... ending on "vote" (per_client even -> ends unvoted)
    vote_rate, vote_codes = storm("POST", lambda i, k: f"/api/v1/papers/{pid}/upvote",
                                  lambda k: {"upvoted": k % 2 == 0})
    read_rate, read_codes = storm("GET", lambda i, k: f"/api/v1/papers/{pid}/community", lambda k: None)
    after = store.community.counts([pid])[pid].upvotes_local
    rows = store.community.upvote_rows(pid)
    server.should_exit = True
    thread.join(10)
    return {"vote_rate": vote_rate, "vote_errors": sum(c != 200 for c in vote_codes),
            "read_rate": read_rate, "read_errors": sum(c != 200 for c in read_codes),
            "exact": after == rows and after == before + (clients if per_client % 2 else 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--votes", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--postgres", action="store_true", help="also run on PostgreSQL (pgserver)")
    args = ap.parse_args()
    rng = random.Random(7)
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for backend in backends:
        tmp = Path(tempfile.mkdtemp(prefix="pb-bench-community-"))
        overrides = {"data_dir": tmp / "data", "ingest_interval_minutes": 0}
        server = None
        if backend == "postgresql":
            import pgserver

            server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
            server.psql("CREATE DATABASE bench;")
            uri = server.get_uri()
            base, query = uri.split("?", 1)
            overrides["database_url"] = ("postgresql+psycopg://" + base.split("://", 1)[1].rsplit("/", 1)[0]
                                         + "/bench?" + query)
        settings = load_settings(overrides, environ={})
        store = open_store(settings)
        print(f"[{backend}] building corpus", flush=True)
        ids = build(store, args.papers, args.votes, rng)
        tr = bench_trending(store, args.runs)
        vote, base = bench_votes(store, ids, 300, rng)
        http = bench_http(store, settings, ids[0])
        print(f"\n[{backend}] {args.papers} papers, {args.votes} local votes")
        for name, label in (("trending7", "/trending (7 days)"), ("week", "sort=trending, one week"),
                            ("month", "sort=trending, one month")):
            v = tr[name]
            print(f"  {label:28s} p50 {pct(v, 50):7.1f} ms  p99 {pct(v, 99):7.1f} ms  "
                  f"(naive full scan p50 {pct(tr['naive'], 50):7.1f} ms: {pct(tr['naive'], 50) / pct(v, 50):5.1f}x slower)")
        print(f"  one vote (set_upvote)        p50 {pct(vote, 50):7.2f} ms  p99 {pct(vote, 99):7.2f} ms  "
              f"(bare INSERT transaction p50 {pct(base, 50):.2f} ms: ratio {pct(vote, 50) / pct(base, 50):.2f})")
        print(f"  50 clients voting over HTTP  {http['vote_rate']:7.0f} votes/s, {http['vote_errors']} errors, "
              f"count exact: {http['exact']}  (reads at the same concurrency: {http['read_rate']:.0f}/s, "
              f"{http['read_errors']} errors; ratio {http['vote_rate'] / http['read_rate']:.2f})")
        store.close()
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
