"""arXiv announcement feeds (RSS 2.0 at rss.arxiv.org/rss/cs.LG+cs.CL): the day's listings.

Each item is one announcement: ``arxiv:announce_type`` says ``new``, ``cross`` (cross-list),
``replace`` or ``replace-cross``. The description starts ``arXiv:2410.18082v1 Announce Type: new``
and then ``Abstract: ...``. Every paper gets a :class:`~paperboy.records.Listing` for the feed's
day (the channel's ``pubDate`` in arXiv's own time zone), which is the daily listing date, not
the paper's submission date.
"""

from __future__ import annotations

import re
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Iterator
from xml.etree.ElementTree import Element

from paperboy.records import Listing, Paper, Reject
from paperboy.sources.common import BadValue, arxiv_paper, split_arxiv_id, squash
from paperboy.sources.http import PoliteClient
from paperboy.sources.oai import split_author_string
from paperboy.sources.validate import checked
from paperboy.sources.xmlsafe import XMLProblem, parse_xml, text

SOURCE = "rss"
#: Source name of the daily listings the feed provides (arXiv's own announcements).
LISTING_SOURCE = "arxiv"

ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"

_HEAD_RE = re.compile(
    r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?", re.S
)


def feed_day(channel: Element) -> date | None:
    raw = text(channel, "pubDate") or text(channel, "lastBuildDate")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).date()  # the feed's own day, not converted to UTC
    except (TypeError, ValueError):
        raise BadValue(f"unparseable channel pubDate {raw!r}") from None


def parse_item(item: Element, day: date | None) -> Paper:
    guid = text(item, "guid") or text(item, "link") or ""
    description = item.findtext("description") or ""
    head = _HEAD_RE.match(description)
    arxiv_id, version = split_arxiv_id(head.group("id") if head else guid)
    if version is None and guid:
        parsed = split_arxiv_id(guid.replace("oai:arXiv.org:", ""))
        version = parsed[1]
    title = text(item, "title")
    if not title:
        raise BadValue("missing title")
    announce = text(item, f"{ARXIV}announce_type") or (head.group("type") if head else None)
    abstract = description[head.end():] if head else description
    categories = [c for c in (text(el) for el in item.findall("category")) if c]
    return arxiv_paper(
        arxiv_id,
        title=title,
        abstract=squash(abstract),
        authors=split_author_string(text(item, f"{DC}creator") or ""),
        categories=categories,
        primary_category=categories[0] if categories else None,
        version=version,
        license=text(item, f"{DC}rights"),
        listing=Listing(source=LISTING_SOURCE, listed_on=day, announce_type=announce),
    )


def parse_feed(data: bytes, location: str) -> list[Paper | Reject]:
    root = parse_xml(data)
    channel = root.find("channel")
    if channel is None:
        raise XMLProblem("not an RSS 2.0 feed (no <channel>)")
    try:
        day = feed_day(channel)
    except BadValue as exc:
        return [Reject(location, str(exc))]
    out: list[Paper | Reject] = []
    for n, item in enumerate(channel.findall("item"), 1):
        out.append(checked(lambda: parse_item(item, day),
                           lambda: f"{location} item {n} ({(text(item, 'guid') or '?')[:200]})"))
    return out


def fetch(client: PoliteClient, base_url: str, categories: list[str]) -> Iterator[Paper | Reject]:
    """Today's announcements of ``categories`` (one combined feed)."""
    url = f"{base_url.rstrip('/')}/{'+'.join(categories)}"
    response = client.get(url)
    location = f"RSS {'+'.join(categories)}"
    try:
        yield from parse_feed(response.content, location)
    except XMLProblem as exc:
        yield Reject(location, str(exc))
