"""arXiv RSS announcements: announce types, versions, and the feed's day as listing date."""

from __future__ import annotations

from datetime import date

from paperboy.records import Reject
from paperboy.sources import rss
from tests.replay import fixture_bytes


def test_fetch_combined_feed(server, client):
    server.route("/rss/cs.LG+cs.CL", (200, fixture_bytes("rss/cs.LG+cs.CL.xml")))
    items = list(rss.fetch(client, server.url + "/rss", ["cs.LG", "cs.CL"]))
    assert [p.id for p in items] == ["2410.18057", "2410.16256", "2410.17243", "2409.01234"]
    by_id = {p.id: p for p in items}
    assert {p.listing.announce_type for p in items} == {"new", "replace-cross", "cross", "replace"}
    assert all(p.listing.listed_on == date(2024, 10, 25) for p in items)
    assert all(p.listing.source == "arxiv" for p in items)
    clear = by_id["2410.18057"]
    assert clear.version == 1 and clear.categories == ["cs.CV", "cs.LG"]
    assert clear.authors == ["Alexey Dontsov", "Dmitrii Korzh", "Alexey Zhavoronkin", "Boris Mikheev"]
    assert clear.abstract.startswith("Machine Unlearning (MU) is critical")
    assert "Announce Type" not in clear.abstract
    assert by_id["2410.16256"].version == 2
    assert by_id["2409.01234"].version == 3
    assert by_id["2409.01234"].authors == ["Ada Lovelace", "Alan Turing"]
    assert clear.license == "http://creativecommons.org/licenses/by/4.0/"


def test_feed_day_is_the_feeds_own_date_not_utc():
    feed = fixture_bytes("rss/cs.LG+cs.CL.xml").replace(
        b"<pubDate>Fri, 25 Oct 2024 00:00:00 -0400</pubDate>\n    <skipDays>",
        b"<pubDate>Fri, 25 Oct 2024 23:30:00 -0400</pubDate>\n    <skipDays>")
    items = rss.parse_feed(feed, "feed")
    assert items[0].listing.listed_on == date(2024, 10, 25)  # 03:30 UTC on the 26th


def test_item_without_title_is_rejected_others_kept():
    feed = fixture_bytes("rss/cs.LG+cs.CL.xml").replace(
        b"<title>Scaling Laws Revisited</title>", b"<title></title>")
    items = rss.parse_feed(feed, "RSS cs.LG")
    assert len(items) == 4 and isinstance(items[3], Reject)
    assert items[3].location == "RSS cs.LG item 4 (oai:arXiv.org:2409.01234v3)"
    assert items[3].problem == "missing title"


def test_not_xml_is_one_reject(server, client):
    server.route("/rss/cs.LG", (200, b"<html><body>maintenance</html>"))
    [reject] = list(rss.fetch(client, server.url + "/rss", ["cs.LG"]))
    assert reject.location == "RSS cs.LG" and reject.problem.startswith("XML error")
