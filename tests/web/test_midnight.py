"""The issue's walk-through: JSON lines with ``"published": "2026-12-02"`` (midnight, no time)
and ``"2026-12-02T09:30:00Z"``, imported as a reader would, then read through the API and in a
real browser (the front page's previous-day link never points to the day itself)."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest

from paperboy.ingest.pipeline import run_ingest
from paperboy.sources.tabular import read_jsonl
from tests.web.conftest import screenshot, serve_in_thread

LINES = [
    {"id": "2612.00001", "title": "A paper published at midnight", "abstract": "Midnight.",
     "authors": ["Ada Lovelace"], "categories": ["cs.CL"], "published": "2026-12-02"},
    {"id": "2612.00002", "title": "A paper published in the morning", "abstract": "Morning.",
     "authors": ["Alan Turing"], "categories": ["cs.CL"], "published": "2026-12-02T09:30:00Z"},
    {"id": "2611.00003", "title": "A paper of the day before, at midnight", "abstract": "Before.",
     "authors": ["Grace Hopper"], "categories": ["cs.CL"], "published": "2026-11-30"},
]


@pytest.fixture
def midnight_store(tmp_path, web_settings):
    from paperboy.storage import open_store

    path = tmp_path / "papers.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    store = open_store(web_settings)
    report = run_ingest(store, read_jsonl(path), "jsonl", progress=False, error_stream=StringIO())
    assert (report.new, report.rejected) == (3, 0)
    yield store
    store.close()


@pytest.fixture
def midnight_app(web_settings, midnight_store):
    from paperboy.web.app import create_app

    return create_app(web_settings, midnight_store, searcher=False)


def test_api_feed_puts_the_midnight_paper_on_its_day(midnight_app):
    from fastapi.testclient import TestClient

    with TestClient(midnight_app) as client:
        day = client.get("/api/v1/feed", params={"date": "2026-12-02"}).json()
        assert {p["id"] for p in day["data"]} == {"2612.00001", "2612.00002"}
        assert day["prev"] == "2026-11-30" and day["prev"] != "2026-12-02"
        before = client.get("/api/v1/feed", params={"date": "2026-12-01"}).json()
        assert before["data"] == []
        first = client.get("/api/v1/feed", params={"date": "2026-11-30"}).json()
        assert [p["id"] for p in first["data"]] == ["2611.00003"]
        assert first["next"] == "2026-12-02"


@pytest.mark.browser
def test_front_page_shows_the_midnight_paper_and_a_real_previous_day(page, midnight_app):
    live, thread = serve_in_thread(midnight_app)
    try:
        page.goto(live.url + "/")
        titles = page.locator("article.card .card-title").all_inner_texts()
        assert "A paper published at midnight" in titles and len(titles) == 2
        prev = page.locator("#prev-period")
        assert prev.get_attribute("href").startswith("/papers?date=2026-11-30")
        screenshot(page, "midnight-front-page")
        prev.click()
        page.wait_for_url(re.compile(r"date=2026-11-30"))
        assert page.locator("article.card .card-title").all_inner_texts() == [
            "A paper of the day before, at midnight"]
        assert page.locator("#next-period").get_attribute("href").startswith(
            "/papers?date=2026-12-02")
    finally:
        live.server.should_exit = True
        thread.join(10)
