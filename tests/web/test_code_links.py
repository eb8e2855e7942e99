"""Code links (issue 15 point 6): githubRepo/githubStars from Hugging Face and GitHub URLs in
arXiv comments are stored, shown with stars, filterable ("with code") on the feed, trending and
search (pages, native API, ``has:code``), and passed through the Hugging Face-compatible API."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from paperboy.ingest.pipeline import run_ingest
from paperboy.sources.common import github_repo_in
from paperboy.sources.hf_daily import parse_item
from paperboy.sources.tabular import resolve_mapping, to_paper
from paperboy.web.app import create_app
from tests.builders import make_listing, make_paper

DAY = date(2024, 10, 25)
STARRED = "2410.31111"


def _ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-paper-id="([^"]+)"', html)


def _starred_paper():
    return make_paper(id=STARRED, title="Retrieval heads with released code",
                      abstract="Released code.", code_url="https://github.com/acme/heads",
                      code_stars=1234, published=datetime(2024, 10, 24, 9),
                      listing=make_listing(listed_on=DAY, upvotes=50))


@pytest.fixture
def starred(web_store):
    web_store.papers.upsert([_starred_paper()], source="hf")
    return STARRED


def test_hf_answer_gives_repository_and_stars():
    item = {"paper": {"id": "2410.19008", "title": "T", "summary": "S", "authors": [],
                      "publishedAt": "2024-10-24T17:58:12.000Z", "upvotes": 3,
                      "githubRepo": "https://github.com/princeton-nlp/ProLong", "githubStars": 218},
            "publishedAt": "2024-10-28T00:41:07.812Z", "numComments": 0}
    paper = parse_item(item, DAY)
    assert (paper.code_url, paper.code_stars) == ("https://github.com/princeton-nlp/ProLong", 218)
    del item["paper"]["githubStars"]
    assert parse_item(item, DAY).code_stars is None


def test_csv_columns_github_and_stars():
    row = {"id": "2410.19008", "title": "T", "github": "https://github.com/a/b", "githubStars": "17"}
    paper = to_paper(row, resolve_mapping(list(row), {}), None)
    assert (paper.code_url, paper.code_stars) == ("https://github.com/a/b", 17)


@pytest.mark.parametrize("comments, expected", [
    ("12 pages. Code: https://github.com/acme/fast-attn.", "https://github.com/acme/fast-attn"),
    ("Code at github.com/Some-Org/repo_v2.git and data elsewhere", "https://github.com/Some-Org/repo_v2"),
    ("See https://github.com/orgs/acme/ and https://github.com/acme/tool", "https://github.com/acme/tool"),
    ("Accepted at NeurIPS 2024", None),
    ("https://acme.github.io/project", None),
])
def test_github_repository_named_in_comments(comments, expected):
    assert github_repo_in(comments) == expected


def test_import_takes_code_link_from_arxiv_comments_without_erasing_hf(web_store):
    from_comments = make_paper(id="2410.32222", comments="Code: https://github.com/acme/x")
    hf = make_paper(id="2410.33333", code_url="https://github.com/hf/given", comments="github.com/other/one")
    report = run_ingest(web_store, [from_comments, hf], "arxiv", error_stream=io.StringIO(),
                        progress=False)
    assert report.new == 2
    assert web_store.papers.get("2410.32222").code_url == "https://github.com/acme/x"
    assert web_store.papers.get("2410.33333").code_url == "https://github.com/hf/given"


def test_stars_are_stored_and_a_repeat_is_unchanged(web_store, starred):
    assert web_store.papers.get(STARRED).code_stars == 1234
    assert web_store.papers.upsert([_starred_paper()], source="hf").unchanged == 1
    more = _starred_paper()
    more.code_stars = 1300
    assert web_store.papers.upsert([more], source="hf").updated == 1
    assert web_store.papers.get(STARRED).code_stars == 1300


def test_cards_and_paper_page_show_code_with_stars(client, starred):
    html = client.get("/papers?date=2024-10-25").text
    card = html[html.index(f'data-paper-id="{STARRED}"'):]
    card = card[: card.index("</article>")]
    assert 'class="code-link" href="https://github.com/acme/heads"' in card and "★ 1.2k" in card
    page = client.get(f"/papers/{STARRED}").text
    assert 'id="code-link" href="https://github.com/acme/heads"' in page and "★ 1.2k" in page


def test_with_code_filter_on_feed_and_trending(client, starred):
    everything = _ids(client.get("/papers?date=2024-10-25").text)
    with_code = _ids(client.get("/papers?date=2024-10-25&code=1").text)
    assert len(everything) == 14 and set(with_code) == {STARRED, "2410.20025"}  # seeded + starred
    page = client.get("/papers?date=2024-10-25&code=1").text
    assert 'aria-pressed="true"' in page and "code=1" in page.split('id="prev-period"')[1][:200]
    trending = _ids(client.get("/trending?code=1").text)
    assert trending and all(i in (STARRED, "2410.20001", "2410.20013", "2410.20025") for i in trending)
    api = client.get("/api/v1/feed", params={"date": "2024-10-25", "code": "true"}).json()
    assert api["count"] == 2 and {p["id"] for p in api["data"]} == set(with_code)
    assert next(p for p in api["data"] if p["id"] == STARRED)["code_stars"] == 1234
    assert client.get("/api/v1/trending", params={"code": "true"}).json()["count"] == 4


def test_hf_compatible_api_passes_repo_and_stars(client, starred):
    daily = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    entry = next(e["paper"] for e in daily if e["paper"]["id"] == STARRED)
    assert entry["githubRepo"] == "https://github.com/acme/heads" and entry["githubStars"] == 1234
    seeded = next(e["paper"] for e in daily if e["paper"]["id"] == "2410.20025")
    assert seeded["githubRepo"] == "https://github.com/example/repo" and "githubStars" not in seeded


def test_search_with_code_by_checkbox_api_and_query_syntax(web_settings, web_store, starred):
    app = create_app(web_settings, web_store)
    app.state.search.searcher.upkeep.catch_up()  # the seed went in directly, not by an import
    with TestClient(app) as c:  # the real keyword search
        plain = _ids(c.get("/search", params={"q": "retrieval"}).text)
        assert STARRED in plain and len(plain) > 2
        for params in ({"q": "retrieval", "code": "1"}, {"q": "retrieval has:code"}):
            found = _ids(c.get("/search", params=params).text)
            assert found and STARRED in found
            assert all(c.get(f"/api/v1/papers/{i}").json()["code_url"] for i in found)
        assert 'name="code" value="1" checked' in c.get("/search", params={"q": "x", "code": "1"}).text
        api = c.get("/api/v1/search", params={"q": "retrieval", "code": "true"}).json()
        assert api["data"] and all(p["code_url"] for p in api["data"])
        bad = c.get("/api/v1/search", params={"q": "retrieval has:stars"})
        assert bad.status_code == 422 and "has:code" in bad.json()["error"]


def test_with_code_on_both_databases(store):
    """The feed's and the search filter's code conditions on SQLite and PostgreSQL."""
    from paperboy.query import SearchFilters
    from paperboy.storage.feeds import Period

    store.papers.upsert([
        make_paper(id="2410.40001", code_url="https://github.com/a/b", code_stars=7,
                   listing=make_listing(listed_on=DAY)),
        make_paper(id="2410.40002", listing=make_listing(listed_on=DAY)),
        make_paper(id="2410.40003", code_url="https://github.com/c/d", published=datetime(2024, 10, 25, 8)),
    ], source="hf")
    page = store.feeds.listed(Period.day(DAY), with_code=True)
    assert {i.id for i in page.items} == {"2410.40001", "2410.40003"} and page.total == 2
    assert store.feeds.listed(Period.day(DAY)).total == 3
    assert store.papers.get("2410.40001").code_stars == 7
    store.search.ensure_search_docs()
    ids, total = store.search.browse(SearchFilters(with_code=True), limit=10)
    assert set(ids) == {"2410.40001", "2410.40003"} and total == 2
    people = store.search.people_doc_ids(SearchFilters(with_code=True))
    assert len(people) == 2
