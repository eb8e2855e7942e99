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


@pytest.fixture
def search_server(web_settings, web_store):
    """The app with the real SearchService (keyword index; no embeddings needed)."""
    from paperboy.web.app import create_app
    from tests.web.conftest import serve_in_thread

    app = create_app(web_settings, web_store)
    app.state.search.searcher.upkeep.catch_up()  # the seed went in directly, not by an import
    live, thread = serve_in_thread(app)
    yield live
    live.server.should_exit = True
    thread.join(10)


def test_save_this_search_as_alert_and_feed(page, search_server, web_settings):
    import email
    import re
    from email.policy import default

    live_server = search_server
    page.goto(live_server.url + "/search?q=retrieval&category=cs.CV")
    box = page.locator("#save-search")
    assert 'retrieval cat:cs.CV' in box.locator("code").inner_text()
    assert "/feeds/search.atom?q=retrieval%20cat%3Acs.CV" in box.locator("#search-atom").get_attribute("href")
    metas = page.locator("#search-results article.card .card-meta").all_inner_texts()
    assert len(metas) == 12 and all("cs.CV" in t for t in metas)
    page.fill("#alert-email", "reader@example.org")
    screenshot(page, "save-search")
    page.click("#alert-form button[type=submit]")
    page.wait_for_selector("text=confirms the alert")
    outbox = web_settings.data_dir / "outbox"
    for _ in range(100):  # the mail is written after the answer
        files = list(outbox.glob("*.eml")) if outbox.exists() else []
        if files:
            break
        page.wait_for_timeout(50)
    msg = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert msg["Subject"] == "Confirm your Paperboy search alert"
    link = re.search(r"(http://\S+/mail/alerts/confirm/\S+)", msg.get_body(("plain",)).get_content()).group(1)
    page.goto(live_server.url + link[link.index("/mail/"):])
    page.click("text=Confirm alert")
    page.wait_for_selector("h1:has-text('Alert saved')")
    page.click("#preferences-link")
    assert "retrieval cat:cs.CV" in page.content()
    screenshot(page, "save-search-preferences")


def test_no_dead_ends_vote_after_sign_in_delete_and_unhide(browser, live_server, web_store):
    base = live_server.url
    # ▲ while signed out, with JavaScript off: the page says why, and signing up records it.
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(base + "/papers?date=2024-10-25")
        card = page.locator('article.card[data-paper-id="2410.29999"]')
        assert card.locator(".n").inner_text() == "99"
        card.locator("a.vote-count").click()
        page.wait_for_selector("#pending-vote")
        assert "Upvotes need an account" in page.inner_text("#pending-vote")
        screenshot(page, "dead-ends-vote-signin")
        page.click("text=Create an account")
        page.wait_for_selector("#pending-vote")
        page.fill("input[name=username]", "latevoter")
        page.fill("input[name=email]", "latevoter@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("#signup-form button[type=submit]")
        page.wait_for_url("**/papers?date=2024-10-25")
        card = page.locator('article.card[data-paper-id="2410.29999"]')
        assert card.locator(".n").inner_text() == "100"
        assert card.locator("button.vote-count").get_attribute("aria-pressed") == "true"

        # Deleting a comment asks first, without JavaScript.
        page.goto(base + "/papers/2410.29999")
        page.fill("#comment-form textarea", "A comment I will regret")
        page.click("#comment-form button[type=submit]")
        page.wait_for_selector(".confirm-delete summary")
        page.click(".confirm-delete summary")
        assert page.locator(".confirm-delete form").is_visible()
        assert "Delete this comment for good?" in page.inner_text(".confirm-delete form")
        screenshot(page, "dead-ends-delete-confirm")
        page.click("text=Yes, delete")
        page.wait_for_selector("text=[deleted by its author]")
    finally:
        context.close()

    # An administrator sees a hidden paper and unhides it.
    user = web_store.accounts.get_by_login("latevoter")
    web_store.accounts.set_admin(user.id, True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(base + "/signin")
        page.fill("input[name=login]", "latevoter")
        page.fill("input[name=password]", PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#nav-hidden")
        page.goto(base + "/papers/2410.20001")
        page.click("text=Hide paper (admin)")
        page.wait_for_selector("#hidden-notice")
        screenshot(page, "dead-ends-hidden-paper")
        page.click("#nav-hidden")
        page.wait_for_selector('article.card[data-paper-id="2410.20001"]')
        page.click('article.card[data-paper-id="2410.20001"] .card-title a')
        page.click("#unhide-paper")
        page.wait_for_selector("#upvote-button")
        assert page.locator("#hidden-notice").count() == 0
    finally:
        context.close()
