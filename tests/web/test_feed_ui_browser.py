"""Reader-facing finishing touches in real headless Chromium (issue 15 points 5-8): typeset math,
code links, saving a search, and pages that never leave a reader at a dead end."""

from __future__ import annotations

import pytest

from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _sign_up(page, base: str, username: str) -> None:
    page.goto(base + "/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("#signup-form button[type=submit]")
    page.wait_for_selector("#nav-profile")


def test_math_is_typeset_without_script_and_hostile_tex_stays_inert(page, live_server):
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else None)
    page.goto(live_server.url + "/papers/2410.29999")
    math = page.locator(".abstract math")
    assert math.count() == 2  # $O(n^2)$ and \(x < y\)
    box = math.first.bounding_box()
    assert box and box["width"] > 20 and box["height"] > 8  # laid out by the browser's MathML
    assert page.locator(".abstract math msup mn").text_content() == "2"
    _sign_up(page, live_server.url, "texreader")
    page.goto(live_server.url + "/papers/2410.29999")
    page.fill("#comment-form textarea",
              "Tight: $\\sum_{i=1}^{n} x_i^2 \\le \\frac{1}{2}$, and "
              "$\\text{<img src=x onerror=window.__pwned=1>}$ $\\href{javascript:window.__pwned=2}{y}$"
              " and $\\broken{$ stays.")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".comment-body math mfrac")
    body = page.locator(".comment-body").last
    assert body.locator("img, a[href^=javascript]").count() == 0
    assert "$\\broken{$" in body.locator(".tex").inner_text()
    assert page.evaluate("window.__pwned === undefined")
    assert violations == []
    screenshot(page, "math-paper")


def test_code_links_and_the_with_code_filter(page, live_server, web_store):
    from datetime import date, datetime

    from tests.builders import make_listing, make_paper

    web_store.papers.upsert([make_paper(
        id="2410.31111", title="Retrieval heads with released code", abstract="Released code.",
        code_url="https://github.com/acme/heads", code_stars=1234, published=datetime(2024, 10, 24, 9),
        listing=make_listing(listed_on=date(2024, 10, 25), upvotes=50))], source="hf")
    page.goto(live_server.url + "/papers?date=2024-10-25")
    assert page.locator("article.card").count() == 14
    page.click("#with-code")
    page.wait_for_url("**code=1**")
    cards = page.locator("article.card")
    assert cards.count() == 2
    link = page.locator('article.card[data-paper-id="2410.31111"] .code-link')
    assert link.get_attribute("href") == "https://github.com/acme/heads"
    assert "★ 1.2k" in link.inner_text()
    assert page.locator("#with-code").get_attribute("aria-pressed") == "true"
    screenshot(page, "code-feed-with-code")
    page.goto(live_server.url + "/papers/2410.31111")
    assert "★ 1.2k" in page.locator("#code-link").inner_text()
    page.goto(live_server.url + "/trending")
    page.click("#with-code")
    page.wait_for_url("**code=1**")
    assert page.locator("article.card .code-link").count() == page.locator("article.card").count() > 0
    screenshot(page, "code-trending")
