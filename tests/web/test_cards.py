"""Issue 19.7: cards show the stored thumbnail (fixed size, lazy) and a short abstract excerpt;
``?view=compact`` (plain links, no JavaScript) leaves both out."""

from __future__ import annotations

import re

import pytest

from tests.builders import make_listing, make_paper

THUMB = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2410.88888.png"


@pytest.fixture
def thumbed(web_store):
    web_store.papers.upsert([
        make_paper(id="2410.88888", title="A paper with a thumbnail", thumbnail_url=THUMB,
                   abstract="Thumbnails help readers. " + "More words here. " * 40,
                   listing=make_listing(listed_on=web_store.feeds.latest_day(), upvotes=500)),
        make_paper(id="2410.88889", title="A hostile thumbnail", thumbnail_url="javascript:alert(1)",
                   listing=make_listing(listed_on=web_store.feeds.latest_day(), upvotes=400)),
    ], source="hf")
    return web_store


def _card(html: str, pid: str) -> str:
    return re.search(rf'<article class="card" data-paper-id="{re.escape(pid)}">.*?</article>',
                     html, re.S).group(0)


def test_expanded_cards_have_thumbnail_and_excerpt(client, thumbed):
    r = client.get("/")
    card = _card(r.text, "2410.88888")
    img = re.search(r"<img [^>]*>", card).group(0)
    assert f'src="{THUMB}"' in img and 'width="144"' in img and 'height="76"' in img
    assert 'loading="lazy"' in img and 'alt=""' in img
    excerpt = re.search(r'<p class="card-abstract">(.*?)</p>', card, re.S).group(1)
    assert excerpt.startswith("Thumbnails help readers.") and excerpt.endswith("\u2026")
    assert len(excerpt) <= 151
    assert "<img" not in _card(r.text, "2410.88889")  # only http(s) images
    assert "img-src 'self' data: https:" in r.headers["content-security-policy"]  # CSP as before
    assert "script-src 'self';" in r.headers["content-security-policy"]


def test_compact_view_is_a_plain_link(client, thumbed):
    html = client.get("/").text
    compact = re.search(r'<a href="([^"]*view=compact[^"]*)"', html).group(1)
    r = client.get(compact.replace("&amp;", "&"))
    card = _card(r.text, "2410.88888")
    assert "<img" not in card and "card-abstract" not in card
    assert re.search(r'aria-current="true">Compact<', r.text)
    # the choice follows to the previous day and to list pages' own toggle
    assert re.search(r'id="prev-period" href="[^"]*view=compact', r.text)
    assert "<img" not in client.get("/organizations/Google?view=compact").text.split("<main")[-1]
    assert "card-abstract" in client.get("/organizations/Google").text
