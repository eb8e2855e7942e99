"""Pages through the HTTP client: feed, navigation, paper page, search, lists, bad input."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import HOSTILE_TITLE, seed_papers


def test_home_shows_latest_day_with_cards(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert "Daily papers" in html and "Oct 25, 2024" in html
    assert "13 papers" in html  # 12 of the day plus the hostile one
    # cards: title link, first authors with count, organization, categories, upvotes, comments
    assert 'href="/papers/2410.29999"' in html
    assert 'href="/authors/author%205"' in html
    assert "+2 more" in html or "+1 more" in html
    assert 'href="/organizations/Meta%20AI"' in html
    assert 'class="tag" href="/categories/cs.CL"' in html
    assert 'aria-label="99 upvotes"' in html and 'aria-label="5 comments"' in html
    # trending first: the 99-upvote paper leads the day
    first = re.search(r'data-paper-id="([^"]+)"', html).group(1)
    assert first == "2410.29999"


def test_script_in_title_renders_as_text(client):
    html = client.get("/").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    page = client.get("/papers/2410.29999").text
    assert "<script>alert" not in page and "<b>sorting</b>" not in page
    assert '<span class="math" title="$O(n^2)$"><math display="inline">' in page
    assert '<mi>x</mi><mo>&lt;</mo><mi>y</mi>' in page  # \\(x < y\\) typeset, its < escaped
    assert "&lt;b&gt;sorting&lt;/b&gt;" in page


def test_day_navigation_and_periods(client):
    html = client.get("/papers?date=2024-10-24").text
    assert 'href="/papers?date=2024-10-23"' in html and 'href="/papers?date=2024-10-25"' in html
    first_day = client.get("/papers?date=2024-10-23").text
    assert 'aria-disabled="true">← Previous' in first_day or "2024-10-21" in first_day
    week = client.get("/papers?week=2024-W43").text
    assert "Papers of week 2024-W43" in week and "38 papers" in week
    month = client.get("/papers?month=2024-10").text
    assert "October 2024" in month and "38 papers" in month  # + the unlisted one
    empty = client.get("/papers?date=2023-01-01")
    assert empty.status_code == 200 and "No papers for 2023-01-01" in empty.text


def test_sorting_and_paging(client):
    up = client.get("/papers?date=2024-10-24&sort=upvotes").text
    votes = [int(v) for v in re.findall(r'aria-label="(\d+) upvotes"', up)]
    assert votes == sorted(votes, reverse=True) and len(votes) == 12
    newest = client.get("/papers?date=2024-10-24&sort=newest").text
    ids = re.findall(r'data-paper-id="([^"]+)"', newest)
    assert ids == sorted(ids, reverse=True)  # seeded in publication order
    r = client.get("/papers?month=2024-10&sort=newest&page=2")
    assert r.status_code == 200 and "page 2 of 2" in r.text
    assert len(re.findall(r'data-paper-id=', r.text)) == 8


def test_paper_page(client):
    html = client.get("/papers/2410.20001").text
    assert "Paper 1: scaling transformers" in html
    assert 'href="/authors/grace%20hopper"' in html
    assert 'href="https://arxiv.org/abs/2410.20001"' in html
    assert 'href="https://arxiv.org/pdf/2410.20001"' in html
    assert 'href="https://github.com/example/repo"' in html
    assert 'href="https://example.org/project"' in html
    assert 'id="upvote"' in html and 'id="discussion"' in html
    assert "Similar papers" in html
    assert "Oct 21, 2024" in html  # published
    # versioned ids and arXiv URLs resolve to the same paper
    assert client.get("/papers/2410.20001v2").status_code == 200
    md = client.get("/papers/2410.20001.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Paper 1: scaling transformers")


def test_search_fallback_highlights_after_escaping(client):
    r = client.get("/search", params={"q": "retrieval"})
    assert r.status_code == 200
    assert "search index not ready" in r.text
    assert "<mark>retrieval</mark>" in r.text
    hostile = client.get("/search", params={"q": "script attention"}).text
    assert "<script>alert" not in hostile
    assert "&lt;<mark>script</mark>&gt;" in hostile
    partial = client.get("/search", params={"q": "retrieval", "partial": 1}).text
    assert "<html" not in partial and "<mark>retrieval</mark>" in partial
    assert client.get("/search").status_code == 200


def test_author_org_category_trending_pages(client):
    r = client.get("/authors/jose%20garcia")
    assert r.status_code == 200 and "José García" in r.text and "1 paper" in r.text
    assert client.get("/authors/Jos%C3%A9%20GARC%C3%8DA").status_code == 200
    assert client.get("/authors/nobody").status_code == 404
    org = client.get("/organizations/Meta%20AI")
    assert org.status_code == 200 and "Meta AI" in org.text
    assert client.get("/organizations/Nope").status_code == 404
    cat = client.get("/categories/cs.CL")
    assert cat.status_code == 200 and "/feeds/category/cs.CL.rss" in cat.text
    tr = client.get("/trending")
    assert tr.status_code == 200
    assert re.search(r'data-paper-id="([^"]+)"', tr.text).group(1) == "2410.29999"


@pytest.mark.parametrize("url, message", [
    ("/papers?date=2024-02-30", "date: expected a date like"),
    ("/papers?week=2024-W60", "week: '2024-W60' is not a week"),
    ("/papers?month=2024-13", "month: '2024-13' is not a month"),
    ("/papers?date=2024-10-25&week=2024-W43", "give only one of date, week or month"),
    ("/papers?sort=best", "sort: expected one of trending, upvotes, newest"),
    ("/papers?page=0", "page: Input should be greater than or equal to 1"),
    ("/search?since=yesterday", "since: expected a date"),
    ("/search?category=%3Cscript%3E", "category: expected an arXiv category"),
])
def test_bad_parameters_give_422_with_message(client, url, message):
    r = client.get(url)
    assert r.status_code == 422, url
    assert message.replace("'", "&#39;") in r.text, r.text[-600:]


def test_unknown_paper_is_404_page(client):
    for path in ("/papers/2501.00001", "/papers/not-an-id", "/papers/%00", "/papers/x.md"):
        r = client.get(path)
        assert r.status_code == 404, path


def test_pages_on_postgresql(pg_url, tmp_path):
    """The key flows on PostgreSQL too."""
    from fastapi.testclient import TestClient

    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    settings = load_settings({"data_dir": tmp_path / "pg", "database_url": pg_url}, environ={})
    store = open_store(settings)
    try:
        seed_papers(store)
        with TestClient(create_app(settings, store, searcher=False)) as c:
            assert "13 papers" in c.get("/").text
            assert 'href="/papers?date=2024-10-23"' in c.get("/papers?date=2024-10-24").text
            assert HOSTILE_TITLE not in c.get("/papers/2410.29999").text
            assert c.get("/papers/2410.29999").status_code == 200
            assert "<mark>retrieval</mark>" in c.get("/search?q=retrieval").text
            assert len(c.get("/api/daily_papers", params={"date": "2024-10-24"}).json()) == 12
            assert c.get("/search", params={"q": "a\x00b"}).status_code == 200
            assert c.get("/authors/a%00b").status_code == 404
    finally:
        store.close()

