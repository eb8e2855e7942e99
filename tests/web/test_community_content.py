"""Collections and paper submission through the real app (SQLite and PostgreSQL); submission
metadata comes from a local server replaying arXiv API (Atom) responses."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from paperboy.settings import load_settings
from paperboy.web.app import create_app
from tests.community.web_helpers import (  # noqa: F401 - fixtures
    any_app,
    any_client,
    new_client,
    post_form,
    signup,
)
from tests.replay import ReplayServer, fixture_bytes
from tests.web.conftest import HOSTILE_TITLE, seed_papers


# -- collections ------------------------------------------------------------------------------

def _make_collection(client, name, public=False, description="", paper_id=None):
    data = {"name": name, "description": description}
    if public:
        data["public"] = "1"
    if paper_id:
        data["paper_id"] = paper_id
    r = post_form(client, "/collections", data)
    assert r.status_code == 303, r.text[:300]
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_collection_lifecycle_and_exports(any_client, any_app):
    hostile = any_app.state.seed["hostile"]
    first = any_app.state.seed["first"]
    signup(any_client, "mona")
    cid = _make_collection(any_client, "Attention <b>reads</b>", public=True,
                           description="papers on <i>heads</i>", paper_id=first)
    r = post_form(any_client, "/collections/add", {"collection_id": cid, "paper_id": hostile,
                                                   "note": "<script>alert(1)</script> key result"})
    assert r.status_code == 303
    page = any_client.get(f"/collections/{cid}").text
    assert "Attention &lt;b&gt;reads&lt;/b&gt;" in page and "papers on &lt;i&gt;heads&lt;/i&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; key result" in page
    assert HOSTILE_TITLE not in page
    # exports
    bib = any_client.get(f"/collections/{cid}.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.text.count("@misc{") + bib.text.count("@article{") == 2
    assert f"eprint = {{{hostile}}}" in bib.text and "archivePrefix = {arXiv}" in bib.text
    assert r"\&" in bib.text  # '&' of the hostile title escaped for BibTeX
    data = any_client.get(f"/collections/{cid}.json").json()
    assert data["name"] == "Attention <b>reads</b>" and data["public"] is True
    assert [p["id"] for p in data["papers"]] == [first, hostile]
    assert data["papers"][1]["note"] == "<script>alert(1)</script> key result"
    assert any_client.get(f"/api/v1/collections/{cid}").json()["papers"][0]["id"] == first
    # public: visible to others and on the profile
    anon = new_client(any_client.app)
    assert anon.get(f"/collections/{cid}").status_code == 200
    assert f'href="/collections/{cid}"' in anon.get("/users/mona").text
    # edit, remove, delete
    assert post_form(any_client, f"/collections/{cid}/edit", {"name": "Renamed"}).status_code == 303
    assert any_client.get(f"/api/v1/collections/{cid}").json()["public"] is False
    assert post_form(any_client, f"/collections/{cid}/remove", {"paper_id": first}).status_code == 303
    assert len(any_client.get(f"/collections/{cid}.json").json()["papers"]) == 1
    assert post_form(any_client, f"/collections/{cid}/delete").status_code == 303
    assert any_client.get(f"/collections/{cid}").status_code == 404


def test_private_collections_are_404_for_everyone_else(any_client, any_app):
    signup(any_client, "nina")
    cid = _make_collection(any_client, "secret list", paper_id=any_app.state.seed["first"])
    assert any_client.get(f"/collections/{cid}").status_code == 200
    other = new_client(any_client.app)
    signup(other, "oscar")
    for c in (other, new_client(any_client.app)):
        for path in (f"/collections/{cid}", f"/collections/{cid}.bib", f"/collections/{cid}.json",
                     f"/api/v1/collections/{cid}"):
            r = c.get(path)
            assert r.status_code == 404, path
            assert "secret list" not in r.text
    assert "secret list" not in other.get("/users/nina").text
    assert "secret list" in any_client.get("/users/nina").text  # the owner sees it
    # nor can others change it
    assert post_form(other, "/collections/add", {"collection_id": cid, "paper_id": any_app.state.seed["hostile"]}).status_code == 404
    assert post_form(other, f"/collections/{cid}/edit", {"name": "pwned"}).status_code == 404
    assert post_form(other, f"/collections/{cid}/delete").status_code == 404
    assert post_form(other, f"/collections/{cid}/remove", {"paper_id": any_app.state.seed["first"]}).status_code == 404
    assert any_app.state.store.community.get_collection(cid).name == "secret list"


def test_duplicate_collection_name_is_refused(client):
    signup(client, "pia")
    _make_collection(client, "Reading")
    r = post_form(client, "/collections", {"name": "Reading"})
    assert r.status_code == 409 and "already have a collection" in r.text


# -- submissions ------------------------------------------------------------------------------

@pytest.fixture
def arxiv_server():
    server = ReplayServer()
    server.route("/api/query", (200, fixture_bytes("arxiv_api/v3.xml")),
                 match=lambda q: q.get("id_list") == "2410.16256")
    server.route("/api/query", (200, fixture_bytes("arxiv_api/empty.xml")),
                 match=lambda q: q.get("id_list") == "2410.99999")
    server.route("/api/query", (200, b"<feed><unclosed>"),
                 match=lambda q: q.get("id_list") == "2410.88888")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def submit_client(store, tmp_path, arxiv_server):
    seed_papers(store)
    settings = load_settings({"data_dir": tmp_path / "data", "ingest_interval_minutes": 0,
                              "arxiv_api_url": arxiv_server.url + "/api/query",
                              "http_retries": 0}, environ={})
    app = create_app(settings, store, searcher=False)
    with new_client(app) as c:
        yield c


def test_submit_by_url_lists_it_today_with_the_submitter(submit_client, arxiv_server):
    signup(submit_client, "quinn")
    r = post_form(submit_client, "/submit", {"paper": "https://arxiv.org/abs/2410.16256v3"})
    assert r.status_code == 303 and r.headers["location"] == "/papers/2410.16256"
    assert ("/api/query", {"id_list": "2410.16256", "max_results": "1"}) in arxiv_server.requests
    page = submit_client.get("/papers/2410.16256").text
    assert "CompassJudger-1" in page and "quinn" in page
    today = datetime.now(timezone.utc).date().isoformat()
    feed = submit_client.get(f"/papers?date={today}").text
    assert 'data-paper-id="2410.16256"' in feed and "submitted by quinn" in feed
    store = submit_client.app.state.store
    [listing] = store.papers.listings("2410.16256")
    assert (listing["source"], listing["submitter"], listing["listed_on"].isoformat()) == ("submitted", "quinn", today)
    profile = submit_client.get("/users/quinn").text
    assert "CompassJudger-1" in profile[profile.index('id="submissions"'):]
    hf = submit_client.get(f"/api/daily_papers?date={today}").json()
    assert [e["paper"]["id"] for e in hf] == ["2410.16256"]
    assert "quinn" in json.dumps(hf[0]["submittedBy"])


def test_duplicates_are_refused_with_a_link(submit_client, arxiv_server):
    signup(submit_client, "rosa")
    r = post_form(submit_client, "/submit", {"paper": "2410.29999"})  # already in the store
    assert r.status_code == 409
    assert 'href="/papers/2410.29999"' in r.text
    assert not arxiv_server.requests  # no need to ask arXiv
    post_form(submit_client, "/submit", {"paper": "arXiv:2410.16256"})
    r = post_form(submit_client, "/submit", {"paper": "2410.16256v1"})
    assert r.status_code == 409 and 'href="/papers/2410.16256"' in r.text


def test_bad_submissions_get_a_clear_message(submit_client):
    signup(submit_client, "sam")
    r = post_form(submit_client, "/submit", {"paper": "not a paper <script>"})
    assert r.status_code == 422 and "not an arXiv id" in r.text and "<script>" not in r.text
    r = post_form(submit_client, "/submit", {"paper": "2410.99999"})
    assert r.status_code == 422 and "arXiv has no paper 2410.99999" in r.text
    r = post_form(submit_client, "/submit", {"paper": "2410.88888"})
    assert r.status_code == 422 and "arXiv could not be reached; try again later." in r.text
    assert submit_client.app.state.store.papers.get("2410.99999") is None


def test_submit_needs_an_account(submit_client):
    r = submit_client.get("/submit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
