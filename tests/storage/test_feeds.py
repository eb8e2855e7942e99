"""Feed queries (storage/feeds.py) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from paperboy.settings import load_settings
from paperboy.storage import open_store
from paperboy.storage.feeds import Period, trending_score
from tests.builders import make_listing, make_paper

D1, D2, D3 = date(2024, 10, 23), date(2024, 10, 24), date(2024, 10, 28)


def _seed(store):
    a = make_paper(title="a", published=datetime(2024, 10, 21, 9),
                   listing=make_listing(listed_on=D1, upvotes=5, comments=1))
    b = make_paper(title="b", published=datetime(2024, 10, 22, 9),
                   listing=make_listing(listed_on=D1, upvotes=50, comments=0, organization="Meta AI"))
    c = make_paper(title="c", published=datetime(2024, 10, 22, 12),
                   listing=make_listing(listed_on=D2, upvotes=1, submitter="someone"))
    # never listed: falls back to its first-version day
    d = make_paper(title="d", published=datetime(2024, 10, 28, 23, 30), authors=["José García"],
                   organization="Tsinghua University")
    store.papers.upsert([a, b, c], source="hf")
    store.papers.upsert([d], source="arxiv")
    return a, b, c, d


def _ids(page):
    return [i.paper.id for i in page.items]


def test_day_listing_with_fallback_and_sorts(store):
    a, b, c, d = _seed(store)
    feeds = store.feeds
    assert _ids(feeds.listed(Period.day(D1), sort="upvotes")) == [b.id, a.id]
    assert _ids(feeds.listed(Period.day(D1), sort="newest")) == [b.id, a.id]
    page = feeds.listed(Period.day(D1), sort="trending")
    assert _ids(page) == [b.id, a.id] and page.total == 2
    first = page.items[0]
    assert (first.upvotes, first.organization, first.day) == (50, "Meta AI", D1)
    # the unlisted paper appears on its first-version day, not on days it was never listed
    assert _ids(feeds.listed(Period.day(D3))) == [d.id]
    assert feeds.listed(Period.day(D3)).items[0].day == D3
    assert _ids(feeds.listed(Period.day(date(2024, 10, 22)))) == []
    assert feeds.count(Period.day(D1)) == 2


def test_week_month_and_paging(store):
    a, b, c, d = _seed(store)
    week = Period.week_of(D1)  # Mon 21 .. Sun 27 October 2024
    assert week.label == "2024-W43"
    assert set(_ids(store.feeds.listed(week))) == {a.id, b.id, c.id}
    month = Period.month_of(D1)
    assert month.label == "2024-10" and month.end == date(2024, 11, 1)
    page = store.feeds.listed(month, sort="newest", limit=2, offset=0)
    assert page.total == 4 and len(page.items) == 2 and page.has_more
    rest = store.feeds.listed(month, sort="newest", limit=2, offset=2)
    assert not rest.has_more
    assert set(_ids(page)) | set(_ids(rest)) == {a.id, b.id, c.id, d.id}
    assert _ids(page)[0] == d.id  # newest first


def test_prev_next_and_latest(store):
    _seed(store)
    feeds = store.feeds
    assert feeds.latest_day() == D3
    assert feeds.prev_day(D3) == D2
    assert feeds.prev_day(D2) == D1
    assert feeds.prev_day(D1) is None  # no listing earlier; unlisted d is later
    assert feeds.next_day(D1) == D2
    assert feeds.next_day(D2) == D3
    assert feeds.next_day(D3) is None
    prev, nxt = feeds.neighbours(Period.day(D2))
    assert (prev, nxt) == (Period.day(D1), Period.day(D3))
    prev, nxt = feeds.neighbours(Period.week_of(D1))
    assert prev is None and nxt == Period.week_of(D3)


def test_time_zone_shifts_fallback_days(settings):
    tokyo = load_settings({"data_dir": settings.data_dir, "database_url": settings.database_url,
                           "timezone": "Asia/Tokyo"}, environ={})
    with open_store(tokyo) as store:  # the zone goes in when the store is built
        *_, d = _seed(store)  # published 2024-10-28 23:30 UTC = 2024-10-29 08:30 in Tokyo
        assert _ids(store.feeds.listed(Period.day(date(2024, 10, 29)))) == [d.id]
        assert _ids(store.feeds.listed(Period.day(D3))) == []


def test_authors_organizations_categories_submitter(store):
    a, b, c, d = _seed(store)
    feeds = store.feeds
    assert _ids(feeds.by_author("jose garcia")) == [d.id]
    assert feeds.author_name("jose garcia") == "José García"
    assert feeds.author_name("nobody") is None
    assert feeds.by_author("ada lovelace").total == 3
    assert _ids(feeds.by_organization("Meta AI")) == [b.id]  # from the listing
    assert _ids(feeds.by_organization("Tsinghua University")) == [d.id]  # from the paper
    assert feeds.by_category("cs.LG").total == 4
    week = Period.week_of(D1)
    assert _ids(feeds.listed(week, submitter="someone")) == [c.id]
    assert ("cs.LG", 4) in feeds.categories()


def test_trending_decays_with_age(store):
    now = datetime(2024, 10, 29, 12)
    old = make_paper(listing=make_listing(listed_on=date(2024, 10, 22), upvotes=40))
    fresh = make_paper(listing=make_listing(listed_on=date(2024, 10, 29), upvotes=10))
    store.papers.upsert([old, fresh], source="hf")
    page = store.feeds.trending(days=30, now=now)
    assert _ids(page) == [fresh.id, old.id]
    assert trending_score(10, 0, 1) > trending_score(10, 0, 100)
    assert trending_score(20, 0, 10) > trending_score(10, 0, 10)
    assert store.feeds.trending(days=1, now=now).total == 1


def test_hidden_papers_never_show(store):
    a, b, c, d = _seed(store)
    from sqlalchemy import update

    from paperboy.storage.schema import papers

    with store.engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == b.id).values(hidden=True))
    assert _ids(store.feeds.listed(Period.day(D1))) == [a.id]
    assert store.feeds.items_for([b.id, a.id])[0].paper.id == a.id
    assert len(store.feeds.items_for([b.id])) == 0


def test_title_matches_fallback_escapes_like(store):
    p = make_paper(title="100% pure_attention")
    q = make_paper(title="1000 pure attention")
    store.papers.upsert([p, q], source="arxiv")
    assert _ids(store.feeds.title_matches("100%")) == [p.id]
    assert _ids(store.feeds.title_matches("pure_attention")) == [p.id]
    assert store.feeds.title_matches("PURE").total == 2
    assert store.feeds.title_matches("").total == 0


def test_empty_store(store):
    assert store.feeds.latest_day() is None
    assert store.feeds.trending().total == 0
    assert store.feeds.listed(Period.day(D1)).items == []
    assert store.feeds.neighbours(Period.day(D1)) == (None, None)
    assert Period.day(D1).containing(D1 + timedelta(days=3)) == Period.day(date(2024, 10, 26))


def _reference_order(store, period, now):
    """The trending order computed the slow, obvious way from the formula's own functions."""
    from sqlalchemy import select

    from paperboy import trending as formula
    from paperboy.storage.schema import daily_listings, paper_stats, papers

    reference = formula.reference_time(period.last, now)
    lo, hi = store.feeds._utc_bounds(period.start, period.end)
    with store.engine.connect() as conn:
        listed = {}
        for pid, day, up, nc in conn.execute(select(
                daily_listings.c.paper_id, daily_listings.c.listed_on, daily_listings.c.upvotes,
                daily_listings.c.comments)):
            listed.setdefault(pid, []).append((day, up, nc))
        local = {r[0]: (r[1], r[2]) for r in conn.execute(select(
            paper_stats.c.paper_id, paper_stats.c.local_upvotes, paper_stats.c.local_comments))}
        rows = conn.execute(select(papers.c.id, papers.c.published, papers.c.hidden)).all()
    keyed = []
    for pid, published, hidden in rows:
        mine = [x for x in listed.get(pid, []) if period.start <= x[0] < period.end]
        if hidden or (pid in listed and not mine) or (
                pid not in listed and not (published and lo <= published < hi)):
            continue
        first_seen = max(x[0] for x in mine) if mine else published
        up = max((x[1] or 0 for x in mine), default=0)
        nc = max((x[2] or 0 for x in mine), default=0)
        lup, lnc = local.get(pid, (0, 0))
        score = formula.score(formula.points(up, lup, nc, lnc),
                              formula.age_hours(first_seen, reference))
        keyed.append((-score, -(published or now).timestamp(), pid))
    return [pid for *_, pid in sorted(keyed)]


def test_trending_order_is_the_formula_for_every_page(store):
    """Listed and unlisted papers, imported and local votes and comments, hidden papers, ties:
    every page of the day / week is the formula's order (and repeats give the same pages)."""
    import random

    from sqlalchemy import insert, update

    from paperboy.storage.schema import paper_stats, papers

    rng = random.Random(5)
    batch_listed, batch_plain = [], []
    for i in range(120):
        day = date(2024, 10, 21) + timedelta(days=rng.randrange(5))
        published = datetime.combine(day, datetime.min.time()) + timedelta(
            seconds=rng.choice([60, 3600, rng.randrange(60, 86400)]))  # some equal times: ties
        if rng.random() < 0.4:
            listing = make_listing(listed_on=day + timedelta(days=rng.randrange(2)),
                                   upvotes=rng.choice([0, 0, 1, 5, rng.randrange(100)]),
                                   comments=rng.randrange(4))
            batch_listed.append(make_paper(published=published, listing=listing))
        else:
            batch_plain.append(make_paper(published=published))
    store.papers.upsert(batch_listed, source="hf")
    store.papers.upsert(batch_plain, source="arxiv")
    everyone = batch_listed + batch_plain
    with store.engine.begin() as conn:
        conn.execute(insert(paper_stats), [
            {"paper_id": p.id, "local_upvotes": rng.randrange(6), "local_comments": rng.randrange(3),
             "updated_at": datetime(2024, 10, 26)} for p in rng.sample(everyone, 30)])
        for p in rng.sample(everyone, 8):
            conn.execute(update(papers).where(papers.c.id == p.id).values(hidden=True))
    for period in (Period.day(date(2024, 10, 22)), Period.day(date(2024, 10, 24)),
                   Period.week_of(date(2024, 10, 23))):
        for now in (datetime(2030, 1, 1), datetime(2024, 10, 24, 15)):
            expected = _reference_order(store, period, now)
            for _ in range(2):  # the second round may come from the cache
                got = []
                for offset in range(0, len(expected) + 7, 7):
                    page = store.feeds.listed(period, "trending", limit=7, offset=offset, now=now)
                    assert page.total == len(expected)
                    got += _ids(page)
                assert got == expected


def test_cached_feed_sees_every_commit(store, settings):
    """Orders, neighbours and the latest day are reused only until anyone commits anything:
    this store, another store on the same database (another process), any table."""
    from sqlalchemy import update

    from paperboy.storage import open_store
    from paperboy.storage.schema import papers

    a, b, c, d = _seed(store)
    past = datetime(2030, 1, 1)
    feeds = store.feeds
    assert _ids(feeds.listed(Period.day(D1), now=past)) == [b.id, a.id]
    assert _ids(feeds.listed(Period.day(D1), now=past)) == [b.id, a.id]
    other = open_store(settings)
    try:
        other.papers.upsert([make_paper(title="a2", published=datetime(2024, 10, 21, 9), id=a.id,
                                        listing=make_listing(listed_on=D1, upvotes=500))],
                            source="hf")
        page = feeds.listed(Period.day(D1), now=past)
        assert _ids(page) == [a.id, b.id] and page.items[0].upvotes == 500
        with other.engine.begin() as conn:  # a hide that touches nothing but the flag
            conn.execute(update(papers).where(papers.c.id == a.id).values(hidden=True))
        assert _ids(feeds.listed(Period.day(D1), now=past)) == [b.id]
        assert _ids(feeds.listed(Period.day(D1), "upvotes", now=past)) == [b.id]
        assert feeds.latest_day() == D3
        assert feeds.neighbours(Period.day(D2)) == (Period.day(D1), Period.day(D3))
        late = make_paper(title="late", published=datetime(2024, 10, 30, 9))
        other.papers.upsert([late], source="arxiv")
        assert feeds.latest_day() == date(2024, 10, 30)
        assert feeds.neighbours(Period.day(D3)) == (Period.day(D2), Period.day(date(2024, 10, 30)))
        with store.engine.begin() as conn:  # this store's own connections
            conn.execute(update(papers).where(papers.c.id == a.id).values(hidden=False))
        assert _ids(feeds.listed(Period.day(D1), now=past)) == [a.id, b.id]
    finally:
        other.close()


def test_slow_order_outlives_commits_for_its_reuse_time(store, settings, backend, monkeypatch):
    """SQLite: an order that took SLOW_ORDER_S or more is served across commits for REUSE_S (an
    import's commits must not make every request recompute it), its cards read fresh; then it is
    recomputed. A fast order sees every commit at once; PostgreSQL keeps no order."""
    from types import SimpleNamespace

    from paperboy.storage import feeds as feeds_module

    clock = [1000.0]  # frozen: every order costs 0 s
    monkeypatch.setattr(feeds_module, "clock", SimpleNamespace(monotonic=lambda: clock[0]))
    a, b, c, d = _seed(store)
    feeds, past, day = store.feeds, datetime(2030, 1, 1), Period.day(D1)
    cached = backend == "sqlite"
    other = open_store(settings)  # another process's commits
    try:
        assert _ids(feeds.listed(day, now=past)) == [b.id, a.id]  # fast: seen at once
        new = make_paper(title="new", published=datetime(2024, 10, 21, 10),
                         listing=make_listing(listed_on=D1, upvotes=900))
        other.papers.upsert([new], source="hf")
        monkeypatch.setattr(feeds, "SLOW_ORDER_S", 0.0)  # from now on every order is slow
        monkeypatch.setattr(feeds, "CROWDED_ROWS", 0)  # and every period crowded
        monkeypatch.setattr(feeds, "REUSE_S", 10.0)
        # recomputed after the commit, and kept as a slow order
        assert _ids(feeds.listed(day, now=past)) == [new.id, b.id, a.id]
        other.papers.upsert([make_paper(title="a2", published=datetime(2024, 10, 21, 9), id=a.id,
                                        listing=make_listing(listed_on=D1, upvotes=5000))],
                            source="hf")
        clock[0] += 9
        page = feeds.listed(day, now=past)
        assert _ids(page) == ([new.id, b.id, a.id] if cached else [a.id, new.id, b.id])
        assert page.items[-1 if cached else 0].upvotes == 5000  # the cards are fresh
        clock[0] += 1.5  # past REUSE_S: recomputed
        assert _ids(feeds.listed(day, now=past)) == [a.id, new.id, b.id]
        assert feeds.latest_day() == D3  # neighbours and the latest day: cheap, never reused
        other.papers.upsert([make_paper(title="late", published=datetime(2024, 10, 30, 9))],
                            source="arxiv")
        assert feeds.latest_day() == date(2024, 10, 30)
    finally:
        other.close()
