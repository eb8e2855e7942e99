"""RSS 2.0 and Atom feeds: the daily feed, trending, a category, and any search query."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Literal
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response

from paperboy.query import QueryError
from paperboy.storage.feeds import FeedItem, Period
from paperboy.web.deps import SearchDep, StoreDep
from paperboy.web.errors import BadInput
from paperboy.web.links import request_base_url
from paperboy.web.params import clean, parse_category, search_filters

router = APIRouter(prefix="/feeds", tags=["Feeds"])

Fmt = Literal["rss", "atom"]
ATOM_NS = "http://www.w3.org/2005/Atom"
_CTRL = {c: None for c in range(32) if c not in (9, 10, 13)}


def _text(value: str | None) -> str:
    """XML 1.0 forbids most control characters even when escaped."""
    return (value or "").translate(_CTRL)


def _moment(item: FeedItem) -> datetime | None:
    """When the item entered the feed, or None for a paper with no date at all."""
    return item.moment.replace(tzinfo=timezone.utc) if item.moment else None


def _authors(item: FeedItem) -> str:
    names = item.paper.authors
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def render_feed(fmt: str, title: str, self_url: str, page_url: str, items: list[FeedItem],
                base: str) -> Response:
    updated = max((m for m in map(_moment, items) if m), default=datetime.now(timezone.utc))
    if fmt == "atom":
        ET.register_namespace("", ATOM_NS)
        feed = ET.Element(f"{{{ATOM_NS}}}feed")
        ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = _text(title)
        ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = self_url
        ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = updated.isoformat()
        ET.SubElement(feed, f"{{{ATOM_NS}}}link", href=self_url, rel="self")
        ET.SubElement(feed, f"{{{ATOM_NS}}}link", href=page_url, rel="alternate")
        ET.SubElement(ET.SubElement(feed, f"{{{ATOM_NS}}}author"), f"{{{ATOM_NS}}}name").text = "Paperboy"
        ET.SubElement(feed, f"{{{ATOM_NS}}}generator").text = "Paperboy"
        for item in items:
            url = f"{base}/papers/{item.paper.id}"
            entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
            ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = _text(" ".join(item.paper.title.split()))
            ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = url
            ET.SubElement(entry, f"{{{ATOM_NS}}}link", href=url, rel="alternate")
            # Atom requires it: an undated paper takes the feed's own time, never 1970
            ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = (
                _moment(item) or updated).isoformat()
            if item.paper.published:
                ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = (
                    item.paper.published.replace(tzinfo=timezone.utc).isoformat())
            for name in item.paper.authors[:20]:
                ET.SubElement(ET.SubElement(entry, f"{{{ATOM_NS}}}author"),
                              f"{{{ATOM_NS}}}name").text = _text(name)
            for cat in item.paper.categories:
                ET.SubElement(entry, f"{{{ATOM_NS}}}category", term=_text(cat))
            summary = ET.SubElement(entry, f"{{{ATOM_NS}}}summary", type="text")
            summary.text = _text(" ".join(item.paper.abstract.split()))
        body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
        media = "application/atom+xml; charset=utf-8"
    else:
        rss = ET.Element("rss", version="2.0")
        rss.set("xmlns:atom", ATOM_NS)
        channel = ET.SubElement(rss, "channel")
        ET.SubElement(channel, "title").text = _text(title)
        ET.SubElement(channel, "link").text = page_url
        ET.SubElement(channel, "description").text = _text(f"{title} — Paperboy")
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(updated)
        ET.SubElement(channel, "generator").text = "Paperboy"
        ET.SubElement(channel, "atom:link", href=self_url, rel="self", type="application/rss+xml")
        for item in items:
            url = f"{base}/papers/{item.paper.id}"
            el = ET.SubElement(channel, "item")
            ET.SubElement(el, "title").text = _text(" ".join(item.paper.title.split()))
            ET.SubElement(el, "link").text = url
            ET.SubElement(el, "guid", isPermaLink="true").text = url
            if _moment(item):  # optional in RSS: left out rather than invented
                ET.SubElement(el, "pubDate").text = format_datetime(_moment(item))
            for cat in item.paper.categories:
                ET.SubElement(el, "category").text = _text(cat)
            ET.SubElement(el, "description").text = _text(
                f"{_authors(item)}\n\n{' '.join(item.paper.abstract.split())}")
        body = ET.tostring(rss, encoding="unicode")
        media = "application/rss+xml; charset=utf-8"
    xml = '<?xml version="1.0" encoding="utf-8"?>\n' + body
    return Response(xml.encode("utf-8"), media_type=media,
                    headers={"cache-control": "public, max-age=300"})


def _urls(request: Request, page_path: str) -> tuple[str, str, str]:
    base = request_base_url(request)
    self_url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return base, self_url, base + page_path


@router.get("/daily.{fmt}", summary="The latest day's papers")
def daily(fmt: Fmt, request: Request, store: StoreDep):
    latest = store.feeds.latest_day()
    items = []
    if latest is not None:
        items = store.feeds.listed(Period.day(latest), sort="trending", limit=100).items
    base, self_url, page = _urls(request, "/")
    day = f" — {latest.isoformat()}" if latest else ""
    return render_feed(fmt, f"Daily papers{day}", self_url, page, items, base)


@router.get("/trending.{fmt}", summary="Trending papers")
def trending(fmt: Fmt, request: Request, store: StoreDep):
    items = store.feeds.trending(days=7, limit=50).items
    base, self_url, page = _urls(request, "/trending")
    return render_feed(fmt, "Trending papers", self_url, page, items, base)


@router.get("/category/{category}.{fmt}", summary="Newest papers of an arXiv category")
def category(category: str, fmt: Fmt, request: Request, store: StoreDep):
    cat = parse_category(category)
    items = store.feeds.by_category(cat, limit=50).items
    base, self_url, page = _urls(request, f"/categories/{cat}")
    return render_feed(fmt, f"Newest papers in {cat}", self_url, page, items, base)


@router.get("/search.{fmt}", summary="Papers matching a search query")
def search_feed(fmt: Fmt, request: Request, search: SearchDep,
                q: str = "", category: str | None = None, author: str | None = None):
    query = clean(q)
    filters = search_filters(None, None, category, author)
    if not query and filters.is_empty():
        raise BadInput("q: give a search query")
    try:
        res = search.search(query, filters, limit=50, explain=False)
    except QueryError as exc:
        raise BadInput(f"q: {exc}") from None
    from urllib.parse import urlencode

    base, self_url, _ = _urls(request, "/search")
    page = f"{base}/search?{urlencode({'q': query})}"
    return render_feed(fmt, f"Search: {query}", self_url, page, res.items, base)
