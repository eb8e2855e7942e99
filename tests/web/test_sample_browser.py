"""The sample data banner as a reader sees it (headless Chromium), and gone after removal."""

from __future__ import annotations

import pytest

from paperboy.ingest.sample import load_sample, remove_sample
from tests.web.conftest import screenshot, serve_in_thread

pytestmark = pytest.mark.browser


def test_sample_banner_on_every_page_until_removed(page, web_settings):
    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    store = open_store(web_settings)
    load_sample(store)
    live, thread = serve_in_thread(create_app(web_settings, store, searcher=False))
    try:
        page.goto(live.url + "/")
        banner = page.locator("#sample-banner")
        assert "Sample data." in banner.inner_text()
        assert "paperboy sample remove" in banner.inner_text()
        assert page.locator("article.card").count() == 29
        screenshot(page, "sample-front-page")
        page.goto(live.url + "/trending")
        assert page.locator("#sample-banner").is_visible()
        remove_sample(store)
        page.goto(live.url + "/")
        assert page.locator("#sample-banner").count() == 0
    finally:
        live.server.should_exit = True
        thread.join(10)
        store.close()
