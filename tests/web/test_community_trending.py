"""Trending through the real app: ordering by the documented score, and no request scans a whole
table (every SQLite query plan of a trending request reads tables through an index)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from paperboy import trending as formula
from paperboy.storage import schema

TABLES = {t.name for t in (schema.papers, schema.daily_listings, schema.paper_stats,
                           schema.upvotes, schema.comments, schema.users)}


@pytest.mark.parametrize("path", ["/?sort=trending", "/papers?week=2024-W43", "/trending",
                                  "/api/daily_papers?sort=trending", "/api/daily_papers?month=2024-10&sort=trending",
                                  "/api/v1/trending"])
def test_trending_requests_never_scan_a_whole_table(client, app, path):
    engine = app.state.store.engine
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert seen
    with engine.connect() as conn:
        for sql, params in seen:
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params):
                detail = row[-1]
                m = re.match(r"SCAN (\w+)", detail)
                assert not (m and m.group(1) in TABLES), (detail, sql[:200])


def test_trending_order_follows_the_formula(client, app):
    """The API's order is the documented score recomputed from stored counts, with local votes."""
    from datetime import date, datetime

    store = app.state.store
    quiet = "2410.20013"  # a day-1 paper with no imported votes
    url = "/api/daily_papers?week=2024-W43&sort=trending&limit=100"
    before = [r["paper"]["id"] for r in client.get(url).json()].index(quiet)
    for i in range(30):
        u = store.accounts.create_user(f"fan{i}", f"fan{i}@example.org", "$argon2id$unused")
        store.community.set_upvote(u.id, quiet)
    rows = client.get("/api/daily_papers?week=2024-W43&sort=trending&limit=100").json()
    ids = [r["paper"]["id"] for r in rows]
    assert len(ids) >= 30
    reference = formula.reference_time(date(2024, 10, 27), datetime.now())  # end of the week
    counts = store.community.counts(ids)

    def key(pid):
        published = store.papers.get(pid).published
        listings = store.papers.listings(pid)
        day = max(row["listed_on"] for row in listings) if listings else published  # unlisted
        c = counts[pid]
        pts = formula.points(c.upvotes_imported, c.upvotes_local, c.comments_imported, c.comments_local)
        return (-formula.score(pts, formula.age_hours(day, reference)), -published.timestamp(), pid)

    assert ids == sorted(ids, key=key)
    assert ids.index(quiet) < before - 10  # 30 local votes lift it
