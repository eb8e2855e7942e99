"""OAI-PMH harvests: both metadata formats, resumption tokens, cursors, OAI errors."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from paperboy.records import Checkpoint
from paperboy.records import Reject
from paperboy.sources import oai
from tests.replay import fixture_bytes


def _page1(params):
    return params.get("metadataPrefix") == "arXiv" and "resumptionToken" not in params


def _page2(params):
    return params.get("resumptionToken") == "6960524|1001"


def test_harvest_follows_resumption_token_and_yields_cursors(server, client):
    server.route("/oai", (200, fixture_bytes("oai/arXiv_page1.xml")), match=_page1)
    server.route("/oai", (200, fixture_bytes("oai/arXiv_page2.xml")), match=_page2)
    items = list(oai.harvest(client, server.url + "/oai", set_spec="cs",
                             from_date=date(2024, 10, 20)))
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Paper", "Paper", "Checkpoint", "Paper", "Reject", "Checkpoint"]
    first, second, cp1, third, reject, cp2 = items
    assert server.requests[0][1] == {"verb": "ListRecords", "metadataPrefix": "arXiv",
                                     "set": "cs", "from": "2024-10-20"}
    assert server.requests[1][1] == {"verb": "ListRecords", "resumptionToken": "6960524|1001"}
    assert (first.id, first.title) == ("0704.0002", "Sparsity-certifying Graph Decompositions")
    assert first.authors == ["Ileana Streinu", "Louis Theran"]
    assert first.categories == ["math.CO", "cs.CG"] and first.primary_category == "math.CO"
    assert first.published == datetime(2007, 3, 30) and first.updated == datetime(2008, 12, 13)
    assert first.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert second.authors[-1] == "John Smith Jr"
    assert cp1.key == "oai:cs:arXiv"
    assert json.loads(cp1.value) == {"token": "6960524|1001", "from": "2024-10-20",
                                     "next_from": "2024-10-26"}
    assert third.id == "2410.18057"  # the deleted record before it is skipped
    assert "oai:arXiv.org:2410.18058" in reject.location and reject.problem == "missing title"
    assert json.loads(cp2.value) == {"token": None, "from": "2024-10-26"}


def test_arxiv_raw_gives_versions_and_dates(server, client):
    server.route("/oai", (200, fixture_bytes("oai/arXivRaw.xml")))
    items = list(oai.harvest(client, server.url + "/oai", metadata_prefix="arXivRaw",
                             from_date=date(2024, 10, 20)))
    a, b, bad, cp = items
    assert server.requests[0][1]["metadataPrefix"] == "arXivRaw"
    assert (a.id, a.version) == ("0704.0002", 2)
    assert a.published == datetime(2007, 3, 31, 2, 26, 18)
    assert a.updated == datetime(2008, 12, 13, 17, 26)
    assert a.authors == ["Ileana Streinu", "Louis Theran"]
    assert b.authors == ["Maosong Cao", "Alexander Lam", "Haodong Duan", "Hongwei Liu",
                         "Songyang Zhang", "Kai Chen"]
    assert b.doi == "10.48550/arXiv.2410.16256"
    assert isinstance(bad, Reject) and "unparseable date of v1" in bad.problem
    assert cp.key == "oai:cs:arXivRaw" and json.loads(cp.value)["token"] is None


def test_resume_from_stored_token(server, client):
    server.route("/oai", (200, fixture_bytes("oai/arXiv_page2.xml")), match=_page2)
    cursor = json.dumps({"token": "6960524|1001", "from": "2024-10-20", "next_from": "2024-10-26"})
    items = list(oai.harvest(client, server.url + "/oai", cursor=cursor))
    assert [type(i).__name__ for i in items] == ["Paper", "Reject", "Checkpoint"]
    assert len(server.requests) == 1 and "resumptionToken" in server.requests[0][1]
    assert json.loads(items[-1].value) == {"token": None, "from": "2024-10-26"}


def test_completed_cursor_starts_next_harvest_from_its_day(server, client):
    server.route("/oai", (200, fixture_bytes("oai/noRecordsMatch.xml")))
    cursor = json.dumps({"token": None, "from": "2024-10-26"})
    [cp] = list(oai.harvest(client, server.url + "/oai", cursor=cursor))
    assert server.requests[0][1]["from"] == "2024-10-26"
    assert isinstance(cp, Checkpoint) and json.loads(cp.value) == {"token": None,
                                                                  "from": "2024-10-27"}


def test_expired_token_restarts_from_the_harvest_day(server, client):
    expired = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-10-27T08:00:00Z</responseDate>
<request verb="ListRecords">http://export.arxiv.org/oai2</request>
<error code="badResumptionToken">expired</error></OAI-PMH>"""
    server.route("/oai", (200, expired), match=lambda p: "resumptionToken" in p)
    server.route("/oai", (200, fixture_bytes("oai/noRecordsMatch.xml")),
                 match=lambda p: p.get("from") == "2024-10-20")
    cursor = json.dumps({"token": "old", "from": "2024-10-20", "next_from": "2024-10-26"})
    [cp] = list(oai.harvest(client, server.url + "/oai", cursor=cursor))
    assert [p for _, p in server.requests][1]["from"] == "2024-10-20"
    assert json.loads(cp.value)["from"] == "2024-10-26"


def test_other_oai_errors_are_one_line(server, client):
    server.route("/oai", (200, fixture_bytes("oai/badArgument.xml")))
    with pytest.raises(oai.OAIError, match="^OAI-PMH error badArgument: Illegal set 'nope'$"):
        list(oai.harvest(client, server.url + "/oai", set_spec="nope"))


def test_split_author_string():
    assert oai.split_author_string("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert oai.split_author_string("  ") == []
