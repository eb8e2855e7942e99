"""RSS 2.0 and Atom feeds parse back with feedparser, with the right entries and safe text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest


@pytest.mark.parametrize("fmt, version", [("rss", "rss20"), ("atom", "atom10")])
def test_daily_feed(client, fmt, version):
    r = client.get(f"/feeds/daily.{fmt}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(f"application/{fmt}+xml")
    ET.fromstring(r.content)  # well-formed XML
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    assert "2024-10-25" in parsed.feed.title
    assert len(parsed.entries) == 13
    top = parsed.entries[0]
    assert top.link == "http://testserver/papers/2410.29999"  # no base URL set: the request
    assert top.title.startswith('<script>alert("x")</script>')  # text, escaped in the XML
    assert b"<script>" not in r.content
    assert "O(n^2)" in top.summary
    listed = top.published_parsed if fmt == "rss" else top.updated_parsed
    assert listed[:3] == (2024, 10, 25)
    if fmt == "atom":
        assert top.published_parsed[:3] == (2024, 10, 22)  # the paper's first version
    assert {t.term for t in top.tags} == {"cs.CL"}


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_trending_category_and_search_feeds(client, fmt):
    trending = feedparser.parse(client.get(f"/feeds/trending.{fmt}").content)
    assert not trending.bozo and trending.entries[0].link.endswith("/papers/2410.29999")
    cat = feedparser.parse(client.get(f"/feeds/category/cs.CV.{fmt}").content)
    assert not cat.bozo and len(cat.entries) == 12
    assert all("cs.CV" in {t.term for t in e.tags} for e in cat.entries)
    r = client.get(f"/feeds/search.{fmt}", params={"q": "retrieval & <heads>"})
    assert r.status_code == 200
    search = feedparser.parse(r.content)
    assert not search.bozo and "retrieval & <heads>" in search.feed.title


def test_feed_errors(client):
    assert client.get("/feeds/daily.json").status_code == 422
    assert client.get("/feeds/category/%3Cx%3E.rss").status_code == 422
    r = client.get("/feeds/search.rss")
    assert r.status_code == 422 and "q:" in r.text


def test_control_characters_do_not_break_xml(client, web_store):
    from tests.builders import make_listing, make_paper
    from datetime import date

    web_store.papers.upsert([make_paper(id="2410.31111", title="Bell\x07 and NUL-free \x0b title",
                                        listing=make_listing(listed_on=date(2024, 10, 26)))],
                            source="hf")
    r = client.get("/feeds/daily.atom")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo and parsed.entries[0].title.startswith("Bell")
