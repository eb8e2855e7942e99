"""Sources through the pipeline into the store, on SQLite and PostgreSQL: idempotence,
newer versions, rejects next to good records, OAI cursor resume, the fetch_latest job."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from sqlalchemy import select

from paperboy.errors import SourceUnavailable
from paperboy.ingest.jobs import fetch_latest
from paperboy.ingest.pipeline import run_ingest
from paperboy.sources import arxiv_api, hf_daily, oai, snapshot
from paperboy.sources.http import PoliteClient
from paperboy.storage.schema import paper_authors, papers
from tests.replay import FIXTURES, closed_port_url, fixture_bytes

SAMPLE = FIXTURES / "samples" / "arxiv-snapshot.jsonl"  # 60 real records


def _ingest(store, items, source):
    return run_ingest(store, items, source, progress=False, error_stream=StringIO())


def test_snapshot_reimport_is_idempotent(store):
    path = SAMPLE
    first = _ingest(store, snapshot.read_snapshot(path), "snapshot")
    assert (first.new, first.updated, first.rejected) == (60, 0, 0)
    again = _ingest(store, snapshot.read_snapshot(path), "snapshot")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 60)
    assert store.papers.count() == 60
    p = store.papers.get("0704.0001")
    assert p.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]  # as the record writes it
    with store.engine.connect() as conn:
        names = conn.execute(select(paper_authors.c.name).where(
            paper_authors.c.paper_id == "0704.0001").order_by(paper_authors.c.position)).scalars()
        assert list(names) == p.authors


def test_newer_arxiv_version_updates(store, server, client):
    server.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml")))
    report = _ingest(store, arxiv_api.fetch(client, server.url + "/api/query", "cs.LG",
                                            date(2024, 10, 22), date(2024, 10, 23), page_size=2),
                     "arxiv")
    assert report.new == 2
    server.route("/api/query", (200, fixture_bytes("arxiv_api/v3.xml")))
    report = _ingest(store, arxiv_api.fetch(client, server.url + "/api/query", "cs.CL",
                                            date(2024, 11, 1), date(2024, 11, 4)), "arxiv")
    assert (report.new, report.updated) == (0, 1)
    p = store.papers.get("2410.16256")
    assert p.version == 3 and p.title == "CompassJudger-1: All-in-one Judge Model (revised)"
    assert p.doi == "10.48550/arXiv.2410.16256"  # v3 page lacks it: kept, not erased
    assert p.published.isoformat() == "2024-10-21T17:36:45"
    assert p.updated.isoformat() == "2024-11-04T10:00:00"


def test_rejects_are_reported_and_good_records_stored(store, tmp_path):
    path = tmp_path / "s.jsonl"
    good = {"id": "2410.00001", "title": "Good", "abstract": "a", "categories": "cs.LG",
            "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
            "authors_parsed": [["One", "A."]]}
    path.write_text("\n".join([json.dumps(good), "{oops", json.dumps({**good, "id": "2410.00002",
                                                                        "title": ""}),
                               json.dumps({**good, "id": "2410.00003"})]) + "\n")
    errors = StringIO()
    report = run_ingest(store, snapshot.read_snapshot(path), "snapshot", progress=False,
                        error_stream=errors)
    assert (report.new, report.rejected, report.exit_code) == (2, 2, 3)
    lines = errors.getvalue().splitlines()
    assert lines[0].startswith(f"rejected {path}:2: bad JSON")
    assert lines[1] == f"rejected {path}:3 (2410.00002): missing title"
    assert store.papers.get("2410.00003").title == "Good"


def test_hf_listing_provenance(store):
    path = FIXTURES / "hf" / "daily_papers_2024-10-25.json"
    report = _ingest(store, hf_daily.read_file(path), "hf")
    assert report.new == 29
    [listing] = store.papers.listings("2410.17243")
    assert (listing["listed_on"], listing["upvotes"], listing["comments"],
            listing["submitter"]) == (date(2024, 10, 25), 64, 3, "ClownRat")
    assert _ingest(store, hf_daily.read_file(path), "hf").new == 0


def _oai_routes(server, page2_responses):
    server.route("/oai", (200, fixture_bytes("oai/arXiv_page1.xml")),
                 match=lambda p: "resumptionToken" not in p)
    server.route("/oai", *page2_responses, match=lambda p: p.get("resumptionToken") == "6960524|1001")


def _papers_table(store):
    with store.engine.connect() as conn:
        rows = conn.execute(select(papers).order_by(papers.c.id)).mappings().all()
    return [{k: v for k, v in r.items() if k not in ("created_at", "modified_at")} for r in rows]


def test_oai_cursor_resumes_after_interruption(store, server, sleeps):
    key = oai.cursor_key("cs", "arXiv")
    _oai_routes(server, [(503, b"down")])
    flaky = PoliteClient(interval=0, retries=1, sleep=sleeps.append)
    with pytest.raises(SourceUnavailable):
        _ingest(store, oai.harvest(flaky, server.url + "/oai", from_date=date(2024, 10, 20),
                                   cursor=store.papers.get_state(key)), "oai")
    # Page 1 and its cursor were committed together before the failure.
    assert store.papers.count() == 2
    assert json.loads(store.papers.get_state(key))["token"] == "6960524|1001"

    server.requests.clear()
    _oai_routes(server, [(200, fixture_bytes("oai/arXiv_page2.xml"))])
    report = _ingest(store, oai.harvest(flaky, server.url + "/oai",
                                        cursor=store.papers.get_state(key)), "oai")
    assert [p for _, p in server.requests] == [{"verb": "ListRecords",
                                                "resumptionToken": "6960524|1001"}]
    assert (report.new, report.rejected) == (1, 1)
    assert json.loads(store.papers.get_state(key)) == {"token": None, "from": "2024-10-26"}
    assert sorted(p["id"] for p in _papers_table(store)) == ["0704.0002", "2410.17243",
                                                             "2410.18057"]


def test_fetch_latest_runs_arxiv_and_hf(store, settings, server, sleeps):
    server.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml")))
    # the HF papers arXiv's category lists did not bring get their categories by id
    server.route("/api/query", (200, fixture_bytes("arxiv_api/id_list_2.xml")),
                 match=lambda p: "id_list" in p)
    server.route("/api/daily_papers", (200, fixture_bytes("hf/daily_papers_2024-10-28.json")))
    s = settings.__class__(**{**settings.__dict__, "arxiv_api_url": server.url + "/api/query",
                              "hf_base_url": server.url, "request_interval": 0.0})
    client = PoliteClient(interval=0, sleep=sleeps.append)
    seen: list[list[str]] = []
    reports = fetch_latest(store, s, days=2, categories=["cs.LG", "cs.CL"],
                           listeners=[seen.append], client=client, today=date(2024, 10, 28))
    arxiv_report, hf_report, filled = reports
    assert (arxiv_report.source, arxiv_report.new) == ("arxiv", 2)  # cs.CL repeats: deduplicated
    # The replayed answer is the same for both days: 2 papers (merged within the batch, one
    # listing per day) and 1 bad item each day.
    assert (hf_report.source, hf_report.new, hf_report.rejected) == ("hf", 2, 2)
    assert [r["listed_on"] for r in store.papers.listings("2410.19008")] == [
        date(2024, 10, 28), date(2024, 10, 27)]
    queries = [p["search_query"] for path, p in server.requests
               if path == "/api/query" and "search_query" in p]
    assert queries[0] == "cat:cs.LG AND submittedDate:[202410270000 TO 202410282359]"
    assert [p["date"] for path, p in server.requests if path == "/api/daily_papers"] == [
        "2024-10-27", "2024-10-28"]
    # the index hears of every change, the filled fields included
    assert sorted(set(i for batch in seen for i in batch)) == [
        "2410.16256", "2410.17243", "2410.18057", "2410.19008"]
    # one id_list request for both, in the scheduled job itself
    asked = [p for path, p in server.requests if path == "/api/query" and "id_list" in p]
    assert [sorted(p["id_list"].split(",")) for p in asked] == [["2410.18057", "2410.19008"]]
    assert (filled.source, filled.updated, filled.rejected) == ("arxiv", 2, 0)
    prolong = store.papers.get("2410.19008")
    assert (prolong.categories, prolong.primary_category, prolong.version) == (
        ["cs.CL", "cs.LG"], "cs.CL", 2)
    assert store.papers.listings("2410.19008")[0]["upvotes"] == 21  # the listing stays
    assert store.papers.uncategorized_listed() == []
    # nothing left to fill: the next run asks arXiv for no ids
    assert fetch_latest(store, s, days=2, categories=["cs.LG"], client=client,
                        today=date(2024, 10, 28))[2:] == []


def test_fetch_latest_offline_is_one_line(store, settings):
    s = settings.__class__(**{**settings.__dict__, "arxiv_api_url": closed_port_url() + "/q",
                              "request_interval": 0.0, "http_retries": 0})
    with pytest.raises(SourceUnavailable) as err:
        fetch_latest(store, s, days=1, categories=["cs.LG"])
    assert "unreachable" in str(err.value) and "\n" not in str(err.value)
