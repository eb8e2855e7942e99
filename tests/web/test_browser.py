"""Real headless Chromium (Debian's, via Playwright): feed, day navigation, search, paper page,
phone layout. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import screenshot, serve_in_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def search_server(web_settings, web_store):
    """The app with the real SearchService (keyword index; no embeddings needed)."""
    from paperboy.web.app import create_app

    app = create_app(web_settings, web_store)
    assert app.state.search.ready
    app.state.search.searcher.upkeep.catch_up()  # the seed went in directly, not by an import
    live, thread = serve_in_thread(app)
    yield live
    live.server.should_exit = True
    thread.join(10)


def test_feed_and_day_navigation(page, live_server):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Daily papers"
    cards = page.locator("article.card")
    assert cards.count() == 13
    assert "<script>" in cards.first.locator(".card-title").inner_text()  # shown as text
    screenshot(page, "feed-desktop")
    page.click("#prev-period")
    page.wait_for_url(re.compile(r"date=2024-10-24"))
    assert "Oct 24, 2024" in page.locator(".feed-head").inner_text()
    assert page.locator("article.card").count() == 12
    page.click("#next-period")
    page.wait_for_url(re.compile(r"date=2024-10-25"))
    page.click("text=Most upvoted")
    page.wait_for_url(re.compile(r"sort=upvotes"))
    votes = [int(v) for v in page.locator(".card .vote-count .n").all_inner_texts()]
    assert votes == sorted(votes, reverse=True)
    page.click(".tabs >> text=Week")
    page.wait_for_url(re.compile(r"week=2024-W43"))
    assert page.locator("article.card").count() == 30  # first page of 38


def test_instant_search_and_open_result(page, search_server):
    page.goto(search_server.url + "/search")
    page.fill("#q", "diffusion")  # no submit: results arrive while typing
    page.wait_for_selector("#search-results article.card")
    assert "q=diffusion" in page.url
    assert "not ready" not in page.locator("#search-results").inner_text()
    first = page.locator("#search-results .card-title a").first
    assert page.locator("#search-results mark").first.inner_text().lower() == "diffusion"
    screenshot(page, "search")
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/papers/2410\.\d+$"))
    assert page.locator("h1.paper-title").inner_text() == title


def test_search_counts_and_nothing_found(page, search_server):
    """The count says how many papers have the words; a query with no word and no neighbour by
    meaning gives an empty page with hints, not a list of unrelated papers."""
    page.goto(search_server.url + "/search?q=diffusion")
    count = page.locator(".result-count").inner_text()
    cards = page.locator("#search-results article.card").count()
    assert re.match(rf"{cards} papers? match(es)? the words for “diffusion”", count), count
    screenshot(page, "search-count")
    page.goto(search_server.url + "/search?q=zzzqqqxx")
    empty = page.locator("#search-results .empty")
    assert empty.locator("h2").inner_text() == "No papers match “zzzqqqxx”"
    assert "Remove a filter" in empty.inner_text()
    assert page.locator("#search-results article.card").count() == 0
    screenshot(page, "search-nothing-found")


def test_neighbour_by_meaning_is_labelled(page, web_settings, web_store):
    from paperboy.web.app import create_app
    from tests.web.test_search_integration import _OneRelatedSearcher

    live, thread = serve_in_thread(create_app(web_settings, web_store, searcher=_OneRelatedSearcher()))
    try:
        page.goto(live.url + "/search?q=scaling")
        assert page.locator(".result-count").inner_text().startswith(
            "1 paper matches the words, and 1 related by meaning")
        labels = page.locator("#search-results article.card .tag.related")
        assert labels.count() == 1 and labels.first.is_visible()
        screenshot(page, "search-related-by-meaning")
    finally:
        live.server.should_exit = True
        thread.join(10)


def test_paper_page(page, live_server):
    page.goto(live_server.url + "/papers/2410.29999")
    assert page.title().startswith('<script>alert("x")</script>')
    assert page.locator(".math").first.get_attribute("title") == "$O(n^2)$"  # typeset (MathML)
    assert page.locator("a:has-text('PDF')").get_attribute("href") == "https://arxiv.org/pdf/2410.29999"
    assert page.locator(".vote-count.big .n").inner_text() == "99"
    page.wait_for_selector("[data-similar-src][data-loaded]")  # fetched after the page
    assert "search index is built" in page.locator(".similar-body").inner_text()
    screenshot(page, "paper")
    page.click("text=José García")
    page.wait_for_url(re.compile(r"/authors/jose%20garcia"))
    assert page.locator("h1").inner_text() == "José García"
    page.click("article.card .card-title a")
    page.wait_for_url(re.compile(r"/papers/2410\.29999"))


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(live_server.url + "/search")
        pg.fill("#q", "retrieval")
        pg.press("#q", "Enter")
        pg.wait_for_url(re.compile(r"q=retrieval"))
        assert pg.locator("article.card").count() > 0
    finally:
        context.close()


def test_phone_layout(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        for path, name in (("/", "feed-phone"), ("/papers/2410.20001", "paper-phone")):
            pg.goto(live_server.url + path)
            overflow = pg.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
            screenshot(pg, name)
        pg.goto(live_server.url + "/")
        boxes = [pg.locator("article.card").nth(i).bounding_box() for i in range(3)]
        assert all(b["width"] > 330 for b in boxes)  # one column, full width
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
    finally:
        context.close()


def test_error_page_in_browser(page, live_server):
    response = page.goto(live_server.url + "/papers/2501.00001")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    response = page.goto(live_server.url + "/papers?date=2024-02-31")
    assert response.status == 422
    assert "date: expected a date" in page.locator(".error-message").inner_text()
