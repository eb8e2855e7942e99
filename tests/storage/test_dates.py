"""Day boundaries, exact to the microsecond, on SQLite and PostgreSQL, in UTC and in a zone
west of it: a paper published at a day's first moment (00:00:00 local) belongs to that day,
one at its last (23:59:59.999999) too, and the neighbouring days' links never point back.

On SQLite datetimes compare as text, so every stored datetime must share the bounds' form
(``... 00:00:00.000000``); the raw-text test below reads the file itself.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine

from paperboy.settings import load_settings
from paperboy.storage import database, open_store
from paperboy.storage.feeds import Period
from tests.builders import make_listing, make_paper

D = date(2026, 12, 2)
TICK = timedelta(microseconds=1)
ZONES = ["UTC", "America/New_York"]


def local_midnight_utc(day: date, tz: str) -> datetime:
    """Naive UTC datetime of 00:00 local on ``day``."""
    return (datetime.combine(day, time(), ZoneInfo(tz)).astimezone(timezone.utc)
            .replace(tzinfo=None))


@pytest.fixture(params=ZONES)
def zoned_store(request, settings):
    values = {k: getattr(settings, k) for k in ("data_dir", "database_url")}
    s = open_store(load_settings({**values, "timezone": request.param}, environ={}))
    yield s, request.param
    s.close()


def _boundary_papers(tz: str):
    start = local_midnight_utc(D, tz)
    end = local_midnight_utc(D + timedelta(days=1), tz)
    return {
        "before": make_paper(title="last moment of the day before", published=start - TICK),
        "first": make_paper(title="first moment (00:00:00)", published=start),
        "last": make_paper(title="last moment (23:59:59.999999)", published=end - TICK),
        "after": make_paper(title="first moment of the next day", published=end),
    }


def _ids(page):
    return {i.paper.id for i in page.items}


def test_unlisted_papers_fall_on_their_local_day_at_the_exact_boundaries(zoned_store):
    store, tz = zoned_store
    p = _boundary_papers(tz)
    store.papers.upsert(list(p.values()), source="arxiv")
    feeds = store.feeds
    assert _ids(feeds.listed(Period.day(D))) == {p["first"].id, p["last"].id}
    assert _ids(feeds.listed(Period.day(D - timedelta(days=1)))) == {p["before"].id}
    assert _ids(feeds.listed(Period.day(D + timedelta(days=1)))) == {p["after"].id}
    assert feeds.count(Period.day(D)) == 2
    for item in feeds.listed(Period.day(D)).items:
        assert item.day == D
    # previous / next never point at the day itself
    assert feeds.prev_day(D) == D - timedelta(days=1)
    assert feeds.next_day(D) == D + timedelta(days=1)
    assert feeds.prev_day(D + timedelta(days=1)) == D
    assert feeds.next_day(D - timedelta(days=1)) == D
    assert feeds.latest_day() == D + timedelta(days=1)
    # the trending window (latest 2 days here) starts at the first moment of its first day
    assert _ids(feeds.trending(days=2)) == {p["first"].id, p["last"].id, p["after"].id}
    # a week that starts on the boundary day's Monday holds its papers, not the day before's
    week = Period.week_of(D)  # Mon 30 Nov .. Sun 6 Dec 2026
    assert _ids(feeds.listed(week)) == {p[k].id for k in p}
    assert _ids(feeds.listed(Period.month_of(D))) == {p[k].id for k in p}


def test_only_midnight_papers_on_the_latest_day(zoned_store):
    """The issue's case: every paper of the latest day was published at its midnight."""
    store, tz = zoned_store
    older = make_paper(published=local_midnight_utc(D - timedelta(days=2), tz) + timedelta(hours=9))
    midnight = [make_paper(published=local_midnight_utc(D, tz)) for _ in range(3)]
    store.papers.upsert([older, *midnight], source="arxiv")
    latest = store.feeds.latest_day()
    assert latest == D
    page = store.feeds.listed(Period.day(latest))
    assert page.total == 3 and _ids(page) == {m.id for m in midnight}
    assert store.feeds.prev_day(latest) == D - timedelta(days=2)
    prev, nxt = store.feeds.neighbours(Period.day(latest))
    assert prev == Period.day(D - timedelta(days=2)) and nxt is None


def test_listed_papers_keep_their_listing_day(zoned_store):
    store, tz = zoned_store
    # published the evening before (local), listed on D: the listing decides
    paper = make_paper(published=local_midnight_utc(D, tz) - TICK, listing=make_listing(listed_on=D))
    store.papers.upsert([paper], source="hf")
    assert _ids(store.feeds.listed(Period.day(D))) == {paper.id}
    assert _ids(store.feeds.listed(Period.day(D - timedelta(days=1)))) == set()
    assert store.feeds.prev_day(D) is None and store.feeds.next_day(D) is None


CANONICAL = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def _datetime_columns(db: sqlite3.Connection):
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for _cid, name, decl, *_ in db.execute(f'PRAGMA table_info("{table}")'):
            if "DATETIME" in (decl or "").upper():
                yield table, name


def test_sqlite_stores_every_datetime_in_the_bounds_form(sqlite_settings):
    """Whole seconds included: sqlite3's own adapter would write ``2026-12-02 00:00:00``."""
    store = open_store(sqlite_settings)
    try:
        whole = datetime(2026, 12, 2)
        store.papers.upsert([make_paper(published=whole, updated=whole,
                                        listing=make_listing(listed_on=D))], source="hf")
        store.papers.upsert([make_paper(published=whole.replace(tzinfo=timezone.utc))], "arxiv")
    finally:
        store.close()
    db = sqlite3.connect(sqlite_settings.data_dir / "paperboy.db")
    checked = 0
    for table, column in _datetime_columns(db):
        for (value,) in db.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'):
            assert CANONICAL.fullmatch(value), (table, column, value)
            checked += 1
    assert checked >= 10
    assert {v for (v,) in db.execute("SELECT published FROM papers")} == {"2026-12-02 00:00:00.000000"}


def test_migration_rewrites_short_datetimes_without_touching_the_keyword_index(tmp_path):
    """A store written before 0012 holds ``... 00:00:00``; the upgrade spells it out in full
    and leaves the keyword index's revisions (and its trigger) as they were."""
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(database._alembic_config(conn), "0008_one_history")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO papers (id, title, abstract, authors, categories, ai_keywords, "
               "content_hash, hidden, published, updated, created_at, modified_at) VALUES "
               "('2612.00001', 't', 'a', '[]', '[]', '[]', 'h', 0, '2026-12-02 00:00:00', "
               "'2026-12-02T09:30:00', '2026-12-03 10:00:00.123456', '2026-12-03 10:00:00')")
    revs_before = db.execute("SELECT rev FROM search_docs").fetchall()
    triggers_before = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                 "ORDER BY name").fetchall()
    db.close()
    database.upgrade(engine)
    db = sqlite3.connect(path)
    row = db.execute("SELECT published, updated, created_at, modified_at FROM papers").fetchone()
    assert row == ("2026-12-02 00:00:00.000000", "2026-12-02 09:30:00.000000",
                   "2026-12-03 10:00:00.123456", "2026-12-03 10:00:00.000000")
    assert db.execute("SELECT rev FROM search_docs").fetchall() == revs_before
    assert db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                      "ORDER BY name").fetchall() == triggers_before
    db.close()
    engine.dispose()
