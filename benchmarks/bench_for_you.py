"""For you benchmark: server time of /for-you with 100k papers stored, beside the daily feed.

    nice .venv/bin/python benchmarks/bench_for_you.py [--papers 100000] [--requests 100]

The corpus is bench_web's (benchmarks/out/web/<papers>/, built on first use: ~1,000 papers a
day over 100 days, real titles and sentences recombined, MiniLM vectors for all). One reader
gets 60 "more like this" on papers about one topic, 15 "less like this", two follows (an
author, an organization) and two rules. The app runs in this process (TestClient, signed in
with a session cookie); server time is the app's own ``Server-Timing: app;dur=`` header.

Rows, all in one run:
- ``/`` (the daily feed) and /robots.txt: the baselines;
- ``/for-you`` today / this week / this month, warm: the reader's model and ranked list are
  cached (what every reload and page change costs);
- the same, cold: a signal changes before every request, so each one refits the model (with
  its same-day negatives) and ranks the period's papers again;
- the first request after the process starts (vocabulary read, candidates loaded).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_web  # noqa: E402  (the shared 100k corpus)


def _server_ms(response) -> float:
    m = re.search(r"dur=([\d.]+)", response.headers.get("server-timing", ""))
    if response.status_code != 200 or not m:
        raise SystemExit(f"{response.request.url}: HTTP {response.status_code}")
    return float(m.group(1))


def measure(client, path: str, n: int, before=None) -> dict:
    times = []
    for i in range(n):
        if before is not None:
            before(i)
        times.append(_server_ms(client.get(path)))
    return {"n": n, "server_p50_ms": round(statistics.median(times), 2),
            "server_p90_ms": round(bench_web.pct(times, 90), 2),
            "server_max_ms": round(max(times), 2)}


def setup_reader(store, rng: random.Random) -> tuple[int, list[str]]:
    from sqlalchemy import select

    from paperboy.storage.schema import papers

    user = store.accounts.get_by_username("bench-reader")
    if user is None:
        user = store.accounts.create_user("bench-reader", "bench@example.org", "x")
    uid = user.id
    store.signals.delete_all(uid)
    with store.engine.connect() as conn:
        topical = list(conn.execute(select(papers.c.id).where(papers.c.title.ilike("%language%"))
                                    .order_by(papers.c.id).limit(5000)).scalars())
        others = list(conn.execute(select(papers.c.id).where(~papers.c.title.ilike("%language%"))
                                   .order_by(papers.c.id).limit(5000)).scalars())
        author = conn.execute(select(papers.c.authors).limit(1)).scalar()[0]
    for pid in rng.sample(topical, 60):
        store.signals.set_signal(uid, pid, "more")
    for pid in rng.sample(others, 15):
        store.signals.set_signal(uid, pid, "less")
    store.signals.follow(uid, "author", author)
    store.signals.follow(uid, "organization", "Hugging Face")
    store.signals.add_rule(uid, "exclude", "survey")
    store.signals.add_rule(uid, "include", "retrieval augmented")
    return uid, others


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=100, help="warm requests per row")
    ap.add_argument("--cold", type=int, default=15, help="cold requests per row")
    ap.add_argument("--digest-readers", type=int, default=0,
                    help="also time the digest's batch of this many readers (e.g. 200)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    data_dir = bench_web.OUT / f"{args.papers}"
    settings = load_settings({"data_dir": data_dir, "ingest_interval_minutes": 0}, environ={})
    store = open_store(settings)
    if store.papers.count() != args.papers:
        print(f"building a corpus of {args.papers:,} papers in {data_dir} ...", file=sys.stderr)
        bench_web.build_corpus(store, args.papers)
    if store.search.count_missing_embeddings(settings.embedding_model):
        bench_web.seed_vectors(store, settings)
    rng = random.Random(3)
    uid, others = setup_reader(store, rng)
    token = store.accounts.create_session(uid)
    app = create_app(settings, store, searcher=False)
    results: dict[str, dict] = {}
    with TestClient(app, base_url="http://testserver") as client:
        client.cookies.set("pb_session", token)
        t0 = time.perf_counter()
        first = client.get("/for-you")
        results["first /for-you after start (vocabulary, fit, candidates)"] = {
            "n": 1, "server_p50_ms": round(_server_ms(first), 1),
            "wall_ms": round((time.perf_counter() - t0) * 1000, 1)}
        latest = store.feeds.latest_day()
        week = f"{latest.isocalendar()[0]}-W{latest.isocalendar()[1]:02d}"
        full_day = latest - timedelta(days=1)
        rows = {
            "baseline /robots.txt": "/robots.txt",
            "baseline daily feed /": "/",
            "baseline daily feed of a full day": f"/papers?date={full_day}",
            "/for-you (latest day)": "/for-you",
            "/for-you (a full day)": f"/for-you?date={full_day}",
            f"/for-you?week={week}": f"/for-you?week={week}",
            f"/for-you?month={latest:%Y-%m}": f"/for-you?month={latest:%Y-%m}",
        }
        for name, path in rows.items():
            for _ in range(5):  # warm-up: templates, caches
                client.get(path)
            results[name + " (warm)" if "for-you" in name else name] = measure(
                client, path, args.requests)
            print(f"  {name}: {results[list(results)[-1]]}", file=sys.stderr, flush=True)
        flip = iter(rng.sample(others[1000:], 1000))

        def change_a_signal(_i):
            store.signals.set_signal(uid, next(flip), "less")

        for name, path in list(rows.items())[3:]:
            results[name + " (cold: refit + rank)"] = measure(client, path, args.cold,
                                                              before=change_a_signal)
            print(f"  {name} cold: {results[list(results)[-1]]}", file=sys.stderr, flush=True)
        page = client.get("/for-you").text
        results["_check"] = {"cards_on_page": page.count('class="fy-item"'),
                             "explained": page.count("Why this paper?")}
    from paperboy.storage.feeds import Period

    results["_corpus"] = {
        "papers": store.papers.count(), "signals": len(store.signals.signals(uid)),
        "candidates_latest_day": len(app.state.recommend.candidates(Period.day(latest))[1]),
        "candidates_full_day": len(app.state.recommend.candidates(Period.day(full_day))[1])}
    if args.digest_readers:
        results["_digest"] = digest_batch(store, settings, full_day, args.digest_readers, rng)
    print(json.dumps(results, indent=2))
    store.close()


def digest_batch(store, settings, day, n: int, rng: random.Random) -> dict:
    """The digest's For you picks for ``n`` readers of one batch (20 signals each) over a full
    day: ``recommend_many`` (one rank_many call) against one reader at a time, models cached
    (both after a first batch that fits them)."""
    from sqlalchemy import select

    from paperboy.recommend.service import RecommendService
    from paperboy.search.query import parse_query
    from paperboy.storage.feeds import Period
    from paperboy.storage.schema import papers

    with store.engine.connect() as conn:
        pool = list(conn.execute(select(papers.c.id).order_by(papers.c.id).limit(20000)).scalars())
    uids = []
    for k in range(n):
        user = store.accounts.get_by_username(f"digest{k}") or store.accounts.create_user(
            f"digest{k}", f"digest{k}@example.org", "x")
        uids.append(user.id)
        if not store.signals.all_signals(user.id):
            for pid in rng.sample(pool, 20):
                store.signals.set_signal(user.id, pid, "more")
    period = Period.day(day)
    service = RecommendService(store, settings, parse_query)
    t0 = time.perf_counter()
    service.recommend_many(uids, period, limit=5)
    first = time.perf_counter() - t0
    service = RecommendService(store, settings, parse_query)  # models from the database cache
    t0 = time.perf_counter()
    batch = service.recommend_many(uids, period, limit=5)
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for uid in uids:
        service.recommend(uid, period, limit=5)
    single = time.perf_counter() - t0
    return {"readers": n, "first_batch_with_fits_s": round(first, 2),
            "batch_s": round(batched, 2), "one_reader_at_a_time_s": round(single, 2),
            "ratio": round(single / batched, 1),
            "picks_per_reader": round(sum(len(v) for v in batch.values()) / n, 1)}


if __name__ == "__main__":
    main()
