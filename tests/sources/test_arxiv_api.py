"""arXiv API Atom pages: parsing, paging, stopping, rejects, safe XML."""

from __future__ import annotations

from datetime import date, datetime

from paperboy.records import Paper, Reject
from paperboy.sources import arxiv_api
from tests.replay import fixture_bytes


def _by_start(start):
    return lambda params: params.get("start") == str(start)


def test_parse_page_fields():
    records, total = arxiv_api.parse_feed(fixture_bytes("arxiv_api/page1.xml"), "page")
    assert total == 3
    a, b = records
    assert (a.id, a.version) == ("2410.17243", 1)
    assert a.title == ("Breaking the Memory Barrier: Near Infinite Batch Size Scaling for "
                       "Contrastive Loss")
    assert a.authors == ["Zesen Cheng", "Hang Zhang", "Lidong Bing"]
    assert a.primary_category == "cs.CV" and a.categories == ["cs.CV", "cs.LG"]
    assert a.published == datetime(2024, 10, 22, 17, 59, 30)
    assert a.comments.startswith("Technical report.")
    assert a.abs_url == "https://arxiv.org/abs/2410.17243"
    assert a.abstract.startswith("Contrastive loss is a powerful approach") and "\n" not in a.abstract
    assert (b.id, b.version) == ("2410.16256", 2)
    assert b.published == datetime(2024, 10, 21, 17, 36, 45)
    assert b.updated == datetime(2024, 10, 23, 9, 12, 1)
    assert b.doi == "10.48550/arXiv.2410.16256"
    assert b.journal_ref == "Proc. Example Conf. 2025, 1-12"
    assert b.categories == ["cs.CL", "cs.AI", "cs.LG"]


def test_fetch_pages_until_total_and_rejects_bad_entry(server, client, sleeps):
    server.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml")), match=_by_start(0))
    server.route("/api/query", (200, fixture_bytes("arxiv_api/page2.xml")), match=_by_start(2))
    items = list(arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                 date(2024, 10, 22), date(2024, 10, 23), page_size=2))
    papers = [i for i in items if isinstance(i, Paper)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [p.id for p in papers] == ["2410.17243", "2410.16256", "2410.18057"]
    [bad] = rejects
    assert "2410.19999" in bad.location and "unparseable published" in bad.problem
    assert len(server.requests) == 2  # stopped at totalResults, no third request
    path, params = server.requests[0]
    assert params["search_query"] == "cat:cs.LG AND submittedDate:[202410220000 TO 202410232359]"
    assert params["sortBy"] == "submittedDate" and params["max_results"] == "2"
    assert sleeps == [3.0] or (len(sleeps) == 1 and 0 < sleeps[0] <= 3.0)


def test_fetch_stops_on_empty_page(server, client):
    server.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml").replace(
        b">3</opensearch:totalResults>", b">50</opensearch:totalResults>")), match=_by_start(0))
    server.route("/api/query", (200, fixture_bytes("arxiv_api/empty.xml")), match=_by_start(2))
    items = list(arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                 date(2024, 10, 22), date(2024, 10, 23), page_size=2))
    assert len(items) == 2 and len(server.requests) == 2


def test_fetch_stops_when_page_brings_nothing_new(server, client):
    page = fixture_bytes("arxiv_api/page1.xml").replace(
        b">3</opensearch:totalResults>", b">50</opensearch:totalResults>")
    server.route("/api/query", (200, page))  # the server keeps sending the same page
    items = list(arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                 date(2024, 10, 22), date(2024, 10, 23), page_size=2))
    assert len(items) == 2 and len(server.requests) == 2


def test_entity_expansion_is_refused_not_expanded(server, client):
    server.route("/api/query", (200, fixture_bytes("billion_laughs.xml")))
    [reject] = list(arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                    date(2024, 10, 22), date(2024, 10, 23)))
    assert isinstance(reject, Reject)
    assert "entities" in reject.problem and "never performed" in reject.problem
    assert "lol" not in reject.problem and len(str(reject)) < 300


def test_malformed_xml_is_a_reject_naming_the_page(server, client):
    server.route("/api/query", (200, b"<feed><entry></feed>"))
    [reject] = list(arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                    date(2024, 10, 22), date(2024, 10, 23)))
    assert reject.location == "arXiv API cs.LG start=0"
    assert reject.problem.startswith("XML error: mismatched tag")


def test_api_error_entry_is_rejected():
    error_feed = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
  </entry>
</feed>"""
    [reject], _ = arxiv_api.parse_feed(error_feed, "page")
    assert reject.problem == "arXiv API error: incorrect id format for 1234.12345"


def test_fetch_ids_asks_in_batches_and_reports_refused_ids(server, client):
    server.route("/api/query", (200, fixture_bytes("arxiv_api/id_list_2.xml")),
                 match=lambda p: p.get("id_list") == "2410.19008,2410.18057")
    server.route("/api/query", (200, fixture_bytes("arxiv_api/id_list_error.xml")),
                 match=lambda p: p.get("id_list") == "2410.19100")
    items = list(arxiv_api.fetch_ids(client, server.url + "/api/query",
                                     ["2410.19008", "2410.18057", "2410.19008", "2410.19100"],
                                     batch_size=2))
    papers = [i for i in items if isinstance(i, Paper)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [(p.id, p.version, p.categories, p.primary_category) for p in papers] == [
        ("2410.19008", 2, ["cs.CL", "cs.LG"], "cs.CL"),
        ("2410.18057", 1, ["cs.CV", "cs.CL"], "cs.CV")]
    assert [r.problem for r in rejects] == ["arXiv API error: incorrect id format for 2410.19100"]
    asked = [p for path, p in server.requests if path == "/api/query"]
    assert asked == [{"id_list": "2410.19008,2410.18057", "start": "0", "max_results": "2"},
                     {"id_list": "2410.19100", "start": "0", "max_results": "1"}]
