"""Issue 19 in real headless Chromium: an undated paper's page (point 3) and the cards'
thumbnails and excerpts (point 7). Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest

from tests.builders import make_paper
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
