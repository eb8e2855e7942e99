"""Hugging Face compatibility: the official client against a real server, and response shapes
compared with a real /api/daily_papers response (shared data)."""

from __future__ import annotations

import json

import huggingface_hub
import pytest

from tests.replay import FIXTURES
from tests.web.conftest import DAYS


@pytest.fixture
def hf(live_server):
    return huggingface_hub.HfApi(endpoint=live_server.url, token=False)


def test_list_daily_papers(hf):
    papers = list(hf.list_daily_papers(date="2024-10-24"))
    assert len(papers) == 12
    first = papers[0]
    assert first.id.startswith("2410.2")
    assert first.title and first.summary.startswith("We study")
    assert [a.name for a in first.authors][1] == "Grace Hopper"
    assert first.submitted_at.date() == DAYS[1] and first.submitted_at.tzinfo is not None
    assert first.published_at.tzinfo is not None
    assert first.submitted_by is not None and first.submitted_by.fullname.startswith("user")
    # for a date, the most upvoted first by default, like Hugging Face (tests/web/test_hf_roundtrip.py)
    upvotes = [p.upvotes or 0 for p in papers]
    assert upvotes == sorted(upvotes, reverse=True)
    # trending: the most upvoted of the day leads
    trending = list(hf.list_daily_papers(date="2024-10-24", sort="trending"))
    assert trending[0].upvotes == max(p.upvotes or 0 for p in papers)
    # week / month / paging / submitter
    assert len(list(hf.list_daily_papers(week="2024-W43", limit=100))) == 38
    assert len(list(hf.list_daily_papers(month="2024-10", limit=5, p=1))) == 5
    mine = list(hf.list_daily_papers(week="2024-W43", submitter="akhaliq", limit=100))
    assert [p.id for p in mine] == ["2410.29999"]
    assert len(list(hf.list_daily_papers())) == 38  # no date: the most recent ones


def test_paper_info_and_read_paper(hf):
    info = hf.paper_info("2410.29999")
    assert info.id == "2410.29999"
    assert info.title.startswith("<script>")  # JSON carries the raw text; pages escape it
    assert info.upvotes == 99 and info.comments == 5
    assert [a.name for a in info.authors] == ["José García", "Zoë Müller"]
    assert info.organization.name == "Meta AI"
    assert info.submitted_by.fullname == "akhaliq"
    assert info.submitted_at.date() == DAYS[2]
    md = hf.read_paper("2410.29999")
    assert md.startswith("# <script>")  # markdown source, served as text/markdown
    assert "$O(n^2)$" in md and "José García" in md
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError) as exc:
        hf.paper_info("2501.00001")
    assert exc.value.response.status_code == 404
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError):
        hf.read_paper("2501.00001")


def test_list_papers_search(hf):
    found = list(hf.list_papers(query="retrieval", limit=5))
    assert 1 <= len(found) <= 5
    assert all("retrieval" in p.title.lower() for p in found)
    assert list(hf.list_papers(query="zzzzqqqq")) == []


def _shape(value):
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_daily_shape_matches_real_response(client):
    real = json.loads((FIXTURES / "hf" / "daily_papers_2024-10-25.json").read_text())
    ours = client.get("/api/daily_papers", params={"date": "2024-10-25"}).json()
    real_entry, our_entry = _shape(real[0]), _shape(ours[0])
    for key in ("paper", "publishedAt", "title", "thumbnail", "numComments", "submittedBy"):
        assert key in our_entry, key
    for key in ("id", "authors", "publishedAt", "title", "summary", "upvotes", "discussionId"):
        assert our_entry["paper"][key] == real_entry["paper"][key] or key == "authors", key
    assert set(real_entry["paper"]["authors"][0]) - {"_id"} <= set(
        our_entry["paper"]["authors"][0]) | {"user", "status", "statusLastChangedAt"}
    for key in ("avatarUrl", "fullname", "name", "type"):
        assert key in our_entry["submittedBy"]
    assert ours[0]["publishedAt"].endswith("Z") and ours[0]["paper"]["publishedAt"].endswith("Z")


def test_api_bad_input(client):
    for params, where in [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"p": -1}, "p"),
                          ({"date": "2024-1-1x"}, "date"), ({"week": "W43"}, "week"),
                          ({"month": "2024"}, "month"), ({"sort": "hot"}, "sort")]:
        r = client.get("/api/daily_papers", params=params)
        assert r.status_code == 422, params
        assert r.json()["error"].startswith(where), r.json()
    assert client.get("/api/papers/search", params={"q": "x" * 3000}).status_code == 422
    assert client.get("/api/papers/search").json() == []
