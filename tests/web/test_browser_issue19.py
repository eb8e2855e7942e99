"""Issue 19 in real headless Chromium: an undated paper's page (point 3) and the cards'
thumbnails and excerpts (point 7). Screenshots land in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_listing, make_paper
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser


def test_undated_paper_page_and_category(page, live_server, web_store):
    web_store.papers.upsert([
        make_paper(id="2505.11213", published=None, updated=None, categories=["math.AP"],
                   primary_category="math.AP", title="Global regularity for a Navier-Stokes model"),
        make_paper(id="0704.0001", published=None, updated=None, categories=["math.AP"],
                   primary_category="math.AP", title="An old paper with no date"),
        make_paper(id="s2:77", published=None, updated=None, categories=["math.AP"],
                   primary_category="math.AP", title="A paper with no date at all"),
    ], source="csv")
    page.goto(live_server.url + "/papers/2505.11213")
    eyebrow = page.locator(".eyebrow").inner_text().strip()
    assert eyebrow.lower() == "math.ap"  # no dangling "·"
    facts = page.locator("dl.facts").inner_text()
    assert "May 2025" in facts and "approximate" in facts
    screenshot(page, "issue19-undated-paper")
    page.goto(live_server.url + "/categories/math.AP")
    titles = page.locator("article.card .card-title").all_inner_texts()
    assert titles == ["Global regularity for a Navier-Stokes model", "An old paper with no date",
                      "A paper with no date at all"]
    screenshot(page, "issue19-undated-category")


def test_cards_thumbnail_excerpt_and_compact_toggle(browser, live_server, web_store):
    thumb = live_server.url + "/static/img/thumbnail.svg"  # served locally: no network needed
    day = web_store.feeds.latest_day()
    web_store.papers.upsert([
        make_paper(id=f"2410.8888{i}", title=f"Thumbnailed paper {i}", thumbnail_url=thumb,
                   abstract="An excerpt shows what the paper is about. " * 12,
                   listing=make_listing(listed_on=day, upvotes=500 - i))
        for i in range(4)], source="hf")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        card = page.locator('article.card[data-paper-id="2410.88880"]')
        img = card.locator(".card-thumb img")
        img.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.card-thumb img').complete")
        box = img.bounding_box()
        assert (round(box["width"]), round(box["height"])) == (144, 76)
        assert img.get_attribute("loading") == "lazy"
        assert card.locator(".card-abstract").inner_text().startswith("An excerpt shows")
        screenshot(page, "issue19-cards-expanded")
        page.click("text=Compact")
        page.wait_for_url(re.compile(r"view=compact"))
        assert page.locator(".card-thumb").count() == 0
        assert page.locator(".card-abstract").count() == 0
        screenshot(page, "issue19-cards-compact")
    finally:
        context.close()
