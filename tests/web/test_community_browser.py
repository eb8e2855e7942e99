"""Community flows in real headless Chromium (Playwright): sign up, upvote without a reload,
comment, build a collection, and the same upvote with JavaScript off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _sign_up(page, base: str, username: str) -> None:
    page.goto(base + "/")
    page.click("#nav-signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("#signup-form button[type=submit]")
    page.wait_for_selector("#nav-profile")


def test_sign_up_upvote_comment_and_collect(page, live_server):
    base = live_server.url
    _sign_up(page, base, "browser-user")
    assert page.inner_text("#nav-profile") == "browser-user"
    screenshot(page, "community-signed-in")

    # Upvote on the paper page: the count changes without a page load.
    page.goto(base + "/papers/2410.29999")
    page.evaluate("window.__marker = 'same page'")
    button = page.locator("#upvote-button")
    assert button.get_attribute("aria-pressed") == "false"
    assert button.locator(".n").inner_text() == "99"
    button.click()
    # A locator wait, not wait_for_function: the page's CSP (no unsafe-eval) blocks the latter's polling.
    expect(button).to_have_attribute("aria-pressed", "true")
    assert button.locator(".n").inner_text() == "100"
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    assert page.locator(".vote-split .local").inner_text() == "1"
    screenshot(page, "community-upvoted")
    page.reload()
    assert page.locator("#upvote-button .n").inner_text() == "100"  # it was stored

    # Comment with Markdown; a script in it stays inert.
    page.fill("#comment-form textarea", "Great *paper*. <script>window.__pwned = 1</script> $O(n^2)$")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector(".comment-body em")
    assert page.inner_text(".comment-body em") == "paper"
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator(".comment-body math msup").count() == 1  # $O(n^2)$ typeset
    screenshot(page, "community-commented")

    # Collection: create one from the paper page, add a note, export.
    page.click("text=New collection…")
    page.fill("#new-collection input[name=name]", "To read")
    page.check("#new-collection input[name=public]")
    page.click("#new-collection button[type=submit]")
    page.wait_for_selector("h1:has-text('To read')")
    assert "2410.29999" in page.inner_html(".collection-items")
    collection_url = page.url
    page.goto(base + "/papers/2410.20001")
    page.fill("#collect input[name=note]", "compare with the other one")
    page.click("#collect button[type=submit]")
    page.wait_for_url(collection_url)
    assert "compare with the other one" in page.inner_text(".collection-items")
    screenshot(page, "community-collection")
    bib = page.request.get(collection_url + ".bib").text()
    assert bib.count("@") == 2 and "2410.20001" in bib


def test_upvote_on_a_card_without_javascript(browser, live_server):
    base = live_server.url
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_up(page, base, "nojs-user")
        page.goto(base + "/papers?date=2024-10-25")
        card = page.locator('article.card[data-paper-id="2410.29999"]')
        assert card.locator(".n").inner_text() == "99"
        card.locator("button.vote-count").click()  # a plain form POST, then a redirect back
        page.wait_for_url(re.compile(r"/papers\?date=2024-10-25$"))
        card = page.locator('article.card[data-paper-id="2410.29999"]')
        assert card.locator(".n").inner_text() == "100"
        assert card.locator("button.vote-count").get_attribute("aria-pressed") == "true"
        screenshot(page, "community-upvote-nojs")
    finally:
        context.close()
