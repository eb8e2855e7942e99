"""A paper page shows local and imported (Hugging Face) comments apart, with a link to where
the imported discussion lives, instead of "Discussion (5)" above "No comments yet."."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import screenshot


def test_imported_comments_are_counted_apart_and_linked(client, web_store):
    html = client.get("/papers/2410.29999").text  # 5 comments on its Hugging Face listing
    assert re.search(r"Discussion <span class=\"muted\">\(0 here\)</span>", html)
    assert "5 comments on Hugging Face" in html
    assert 'href="https://huggingface.co/papers/2410.29999#community"' in html
    assert "No comments here yet." in html
    plain = client.get("/papers/2410.30001").text  # never listed on Hugging Face
    assert "(0 here)" in plain and "on Hugging Face" not in plain


def test_local_comments_count_here(client, web_store):
    user = web_store.accounts.create_user("reader", "reader@example.org", "x" * 60)
    web_store.community.add_comment(user.id, "2410.29999", "A local remark")
    html = client.get("/papers/2410.29999").text
    assert "(1 here)" in html and "5 comments on Hugging Face" in html
    assert "A local remark" in html


@pytest.mark.browser
def test_paper_page_discussion_in_the_browser(page, live_server):
    page.goto(live_server.url + "/papers/2410.29999")
    heading = page.locator("#discussion-h").inner_text()
    assert heading == "Discussion (0 here)"
    link = page.locator("#imported-discussion a")
    assert link.get_attribute("href") == "https://huggingface.co/papers/2410.29999#community"
    page.locator("#discussion").scroll_into_view_if_needed()
    screenshot(page, "paper-discussion-counts")
