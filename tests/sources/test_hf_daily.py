"""Hugging Face daily papers: the real sample, the newer fields, the API by date."""

from __future__ import annotations

import json
from datetime import date, datetime

from paperboy.records import Paper, Reject
from paperboy.sources import hf_daily
from tests.replay import FIXTURES, fixture_bytes


def test_real_sample_file():
    path = FIXTURES / "hf" / "daily_papers_2024-10-25.json"
    items = list(hf_daily.read_file(path))
    assert len(items) == 29 and all(isinstance(p, Paper) for p in items)
    first = items[0]
    assert first.id == "2410.17243"
    assert first.title == ("Breaking the Memory Barrier: Near Infinite Batch Size Scaling for "
                           "Contrastive Loss")
    assert first.authors[:2] == ["Zesen Cheng", "Hang Zhang"] and len(first.authors) == 9
    assert first.published == datetime(2024, 10, 22, 17, 59, 30)
    assert first.thumbnail_url.endswith("/papers/2410.17243.png")
    listing = first.listing
    assert (listing.source, listing.listed_on) == ("hf", date(2024, 10, 25))
    assert (listing.upvotes, listing.comments, listing.submitter) == (64, 3, "ClownRat")
    raw = json.loads(path.read_text())
    assert [p.listing.upvotes for p in items] == [x["paper"]["upvotes"] for x in raw]


def test_newer_fields_and_bad_item():
    items = list(hf_daily.read_file(FIXTURES / "hf" / "daily_papers_2024-10-28.json"))
    prolong, clear, bad = items
    assert prolong.code_url == "https://github.com/princeton-nlp/ProLong"
    assert prolong.project_url == "https://princeton-nlp.github.io/ProLong/"
    assert prolong.ai_keywords == ["long-context", "continued training", "SFT"]
    assert prolong.ai_summary.startswith("Continued pre-training")
    assert prolong.organization == "Princeton NLP group"
    assert prolong.listing.organization == "Princeton NLP group"
    assert prolong.listing.submitter == "akhaliq" and prolong.listing.comments == 2
    assert prolong.title == "How to Train Long-Context Language Models (Effectively)"
    assert clear.organization is None and clear.listing.upvotes == 5
    assert isinstance(bad, Reject)
    assert bad.location.endswith("daily_papers_2024-10-28.json item 3 (2410.19100)")
    assert bad.problem == "missing title"


def test_listing_date_given_explicitly_wins(tmp_path):
    path = tmp_path / "papers.json"
    path.write_bytes(fixture_bytes("hf/daily_papers_2024-10-28.json"))
    items = list(hf_daily.read_file(path, listed_on=date(2024, 11, 1)))
    assert items[0].listing.listed_on == date(2024, 11, 1)
    # Without a date in the name or given, the item's own list date is used.
    items = list(hf_daily.read_file(path))
    assert items[0].listing.listed_on == date(2024, 10, 28)


def test_bad_json_file_is_one_reject(tmp_path):
    path = tmp_path / "daily_papers_2024-10-28.json"
    path.write_text('[{"paper": {"id": "2410.1"}},\n  oops]')
    [reject] = list(hf_daily.read_file(path))
    assert reject.location == f"{path}:2" and reject.problem.startswith("bad JSON")


def test_fetch_by_date_uses_the_requested_day(server, client):
    server.route("/api/daily_papers", (200, fixture_bytes("hf/daily_papers_2024-10-28.json")))
    items = list(hf_daily.fetch(client, server.url, [date(2024, 10, 28), date(2024, 10, 29)]))
    assert [r[1] for r in server.requests] == [{"date": "2024-10-28"}, {"date": "2024-10-29"}]
    papers = [p for p in items if isinstance(p, Paper)]
    assert {p.listing.listed_on for p in papers} == {date(2024, 10, 28), date(2024, 10, 29)}
    assert sum(isinstance(p, Reject) for p in items) == 2
