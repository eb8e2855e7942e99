"""For you in real headless Chromium: the empty state, "more / less like this" without a reload
(and back), the feed that follows, and the same buttons with JavaScript off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import screenshot
from tests.web.test_community_browser import _sign_up

pytestmark = pytest.mark.browser


def test_empty_state_like_unlike_and_the_feed(page, live_server):
    base = live_server.url
    _sign_up(page, base, "fy-reader")
    page.click("#nav-for-you")
    page.wait_for_selector("#for-you-empty")
    assert "Start your feed" in page.inner_text("#for-you-empty")
    assert page.locator("#for-you-empty input[name=category]").count() >= 3
    screenshot(page, "for-you-empty")

    # More like this on a card of the daily feed: pressed without a page load, then unpressed.
    page.goto(base + "/papers?date=2024-10-25")
    page.evaluate("window.__marker = 'same page'")
    box = page.locator('.card[data-paper-id="2410.20025"] .fy-signals')
    more = box.locator("form[data-signal=more] button")
    less = box.locator("form[data-signal=less] button")
    expect(more).to_have_attribute("aria-pressed", "false")
    more.click()
    expect(more).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__marker") == "same page"
    screenshot(page, "for-you-liked-card")
    less.click()  # switching to "less" turns "more" off
    expect(less).to_have_attribute("aria-pressed", "true")
    expect(more).to_have_attribute("aria-pressed", "false")
    less.click()  # and clicking it again clears it
    expect(less).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.locator('.card[data-paper-id="2410.20025"] form[data-signal=less] button')
           ).to_have_attribute("aria-pressed", "false")

    # Like two papers on their pages, then the week's feed explains itself.
    for pid in ("2410.20025", "2410.20028"):
        page.goto(f"{base}/papers/{pid}")
        page.click("#more-like-this")
        expect(page.locator("#more-like-this")).to_have_attribute("aria-pressed", "true")
    page.goto(base + "/for-you?week=2024-W43")
    page.wait_for_selector(".fy-item")
    assert page.locator("#for-you-empty").count() == 0
    first = page.locator(".fy-item").first
    first.locator(".fy-why summary").click()
    assert "Close to what you liked" in first.inner_text()
    screenshot(page, "for-you-feed")


def test_more_like_this_without_javascript(browser, live_server):
    base = live_server.url
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_up(page, base, "fy-nojs")
    page.goto(base + "/papers?date=2024-10-24")
    page.locator('.card[data-paper-id="2410.20013"] form[data-signal=more] button').click()
    page.wait_for_load_state()
    assert page.url.endswith("/papers?date=2024-10-24")
    expect(page.locator('.card[data-paper-id="2410.20013"] form[data-signal=more] button')
           ).to_have_attribute("aria-pressed", "true")
    context.close()


def test_settings_page_import_follow_and_rule(page, live_server):
    base = live_server.url
    _sign_up(page, base, "fy-settings")
    page.goto(base + "/for-you/settings")
    page.fill("textarea[name=ids]", "2410.20001\nhttps://arxiv.org/abs/2410.20002v2\nnot-an-id")
    page.click("#import-button")
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "2 matched" in report and "not an arXiv id" in report
    page.fill("input[name=rule]", "exclude: <b>survey</b>")
    page.click("form[action='/for-you/rules'] button")
    page.wait_for_selector("#rules")
    assert page.locator("code", has_text="exclude: <b>survey</b>").count() == 1  # shown as text
    page.fill("input[name=value]", "Grace Hopper")
    page.select_option("select[name=kind]", "author")
    page.click("form[action='/for-you/follows'] button")
    page.wait_for_selector("text=Unfollow")
    screenshot(page, "for-you-settings")
