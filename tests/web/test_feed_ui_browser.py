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
