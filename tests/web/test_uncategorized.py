"""Papers listed without categories (Hugging Face's daily papers, before arXiv's fetch fills
them) are marked on cards, and a category page or filter says how many it cannot match."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.builders import make_listing, make_paper

DAY = date(2024, 10, 25)


@pytest.fixture
def mixed_client(web_settings):
    from fastapi.testclient import TestClient

    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    store = open_store(web_settings)
    store.papers.upsert([
        make_paper(id="2410.00001", title="Categorized paper", categories=["cs.CL"],
                   primary_category="cs.CL", listing=make_listing(listed_on=DAY)),
        make_paper(id="2410.00002", title="Pending paper", categories=[], primary_category=None,
                   published=datetime(2024, 10, 24, 12), listing=make_listing(listed_on=DAY)),
    ], source="hf")
    with TestClient(create_app(web_settings, store, searcher=False)) as client:
        yield client
    store.close()


def test_pages_say_how_many_papers_have_no_category_yet(mixed_client):
    feed = mixed_client.get("/").text
    assert feed.count("category pending") == 1
    page = mixed_client.get("/categories/cs.CL").text
    assert "Categorized paper" in page and "Pending paper" not in page
    assert "1 listed paper has no category yet" in page
    # a category nothing matches yet is no dead end while papers wait for theirs
    empty = mixed_client.get("/categories/cs.CV")
    assert empty.status_code == 200 and "1 listed paper has no category yet" in empty.text
    filtered = mixed_client.get("/search", params={"q": "paper", "category": "cs.CL"}).text
    assert 'id="uncategorized-note"' in filtered
    assert 'id="uncategorized-note"' not in mixed_client.get("/search", params={"q": "paper"}).text
