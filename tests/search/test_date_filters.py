"""``since`` / ``until`` are exact at a day's first and last microsecond in every search mode
(keyword index, vectors, hybrid, and the plain listing), on SQLite and PostgreSQL. Search dates
are the paper's first-version date as arXiv gives it (a UTC day) whatever PAPERBOY_TIMEZONE
says: the feed's days are local, a paper's date is not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from paperboy.query import SearchFilters
from paperboy.search.service import SearchService
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper

D = date(2026, 12, 2)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_since_until_at_the_exact_boundaries(settings, embedder, tz):
    values = {k: getattr(settings, k) for k in ("data_dir", "database_url")}
    zoned = load_settings({**values, "timezone": tz}, environ={})
    store = open_store(zoned)
    try:
        start = datetime(2026, 12, 2)
        end = start + timedelta(days=1)
        p = {
            "before": make_paper(title="Boundary study of the day before", published=start - TICK),
            "first": make_paper(title="Boundary study at midnight", published=start),
            "last": make_paper(title="Boundary study at the last moment", published=end - TICK),
            "after": make_paper(title="Boundary study of the next day", published=end),
        }
        store.papers.upsert(list(p.values()), source="arxiv")
        service = SearchService(store, zoned, embedder=embedder)
        service.upkeep.catch_up()
        service.embed_missing()
        day = SearchFilters(since=D, until=D)
        want = {p["first"].id, p["last"].id}
        for mode in ("lexical", "dense", "hybrid"):
            found = {h.id for h in service.search("boundary study", day, mode=mode).hits}
            assert found == want, mode
        # only a filter, no words: the plain listing
        assert {h.id for h in service.search("", day).hits} == want
        since = {h.id for h in service.search("boundary study", SearchFilters(since=D)).hits}
        assert since == want | {p["after"].id}
        until = {h.id for h in service.search("boundary study", SearchFilters(until=D)).hits}
        assert until == want | {p["before"].id}
        near = {h.id for h in service.similar(p["before"].id, since=D, until=D)}
        assert near == want
    finally:
        store.close()
