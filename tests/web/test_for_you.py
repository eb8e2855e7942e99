"""The "For you" pages and API through the real app: empty state, follows from the empty state,
more/less like this (no-JS forms with CSRF, JSON API), rules refused or escaped, library import,
the private feed (feedparser, revocable), /api/v1/me/recommendations, privacy, export/delete."""

from __future__ import annotations

import feedparser
import pytest

from tests.community.web_helpers import any_app, any_client, page_token, post_form, signup  # noqa: F401  (fixtures)


@pytest.fixture
def reader(client):
    assert signup(client, "reader").status_code == 303
    return client


def _ids_of_category(web_store, cat):
    from datetime import date

    from paperboy.storage.feeds import Period

    items = web_store.feeds.listed(Period.day(date(2024, 10, 25)), limit=100).items
    return [i.id for i in items if cat in i.paper.categories]


def test_anonymous_readers_are_sent_to_sign_in(client):
    r = client.get("/for-you", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=/for-you")
    assert client.get("/api/v1/me/recommendations").status_code == 401


def test_empty_state_then_follow_categories(reader, web_store):
    page = reader.get("/for-you").text
    assert "Start your feed" in page and 'name="category" value="cs.CL"' in page
    assert "/for-you/settings#library" in page and 'href="/search"' in page
    r = post_form(reader, "/for-you/categories", {"category": ["cs.CL", "not.a-cat"]})
    assert r.status_code == 303
    assert [(f.kind, f.value) for f in web_store.signals.follows(1)] == [("category", "cs.CL")]
    page = reader.get("/for-you?date=2024-10-25").text
    assert "Start your feed" not in page
    for pid in _ids_of_category(web_store, "cs.CL"):
        assert f'data-paper-id="{pid}"' in page
    assert "you follow category cs.CL" in page
    assert 'href="/for-you?week=2024-W43"' in page and 'href="/for-you?month=2024-10"' in page


def test_more_like_this_without_js_and_with_the_api(reader, web_store):
    pid = _ids_of_category(web_store, "cs.LG")[0]
    assert reader.post(f"/papers/{pid}/more", data={"next": "/"},
                       follow_redirects=False).status_code == 403  # no CSRF token
    r = post_form(reader, f"/papers/{pid}/more", {"next": "/for-you"})
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
    assert web_store.signals.signals_for(1, [pid]) == {pid: "more"}
    page = reader.get(f"/papers/{pid}").text
    assert 'id="more-like-this"' in page and 'aria-pressed="true"' in page
    post_form(reader, f"/papers/{pid}/more")  # toggles off
    assert web_store.signals.signals_for(1, [pid]) == {}
    token = page_token(reader, "/")
    r = reader.post(f"/api/v1/papers/{pid}/signal", json={"signal": "less"},
                    headers={"X-CSRF-Token": token})
    assert r.json() == {"paper_id": pid, "signal": "less"}
    assert reader.post(f"/api/v1/papers/{pid}/signal", json={"signal": "less"}).status_code == 403
    assert reader.post("/api/v1/papers/2410.99999/signal", json={"signal": "more"},
                       headers={"X-CSRF-Token": token}).status_code == 404
    # every card of the feed carries the buttons
    assert reader.get("/").text.count('data-signal="more"') >= 10


def test_recommendations_explain_with_liked_titles_escaped(reader, web_store):
    liked = ["2410.29999"] + _ids_of_category(web_store, "cs.CL")[:2]  # the hostile title too
    for pid in liked:
        post_form(reader, f"/papers/{pid}/more")
    page = reader.get("/for-you?week=2024-W43").text
    assert "Why this paper?" in page and "Close to what you liked" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    token = web_store.accounts.create_api_token(1, "t")[0]
    r = reader.get("/api/v1/me/recommendations?since=2024-10-23&until=2024-10-25&limit=5",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    body = r.json()
    assert body["data"] and body["count"] >= len(body["data"])
    hit = body["data"][0]
    search_keys = {"id", "title", "authors", "categories", "published", "day", "upvotes", "url"}
    assert search_keys <= set(hit)
    assert hit["explanation"]["closest_liked"][0]["id"] in liked
    assert hit["explanation"]["closest_liked"][0]["title"]
    assert reader.get("/api/v1/me/recommendations?since=2024-10-25&until=2024-10-01").status_code == 422


@pytest.mark.parametrize("rule, problem", [
    ("", "start the rule"),
    ("include:   ", "give some words"),
    ("exclude: " + "x" * 500, "at most 200 characters"),
    ("include: the of and", "no word"),
    ("sometimes: maybe", "start the rule"),
])
def test_bad_rules_are_refused_with_one_line(reader, rule, problem):
    r = post_form(reader, "/for-you/rules", {"rule": rule})
    assert r.status_code == 422 and problem in r.text


def test_hostile_rule_text_is_escaped(reader, web_store):
    r = post_form(reader, "/for-you/rules", {"rule": 'exclude: <img src=x onerror=alert(1)> survey'})
    assert r.status_code == 303
    page = reader.get("/for-you/settings").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_exclude_rule_removes_a_followed_paper(reader, web_store):
    post_form(reader, "/for-you/follows", {"kind": "category", "value": "cs.CL"})
    post_form(reader, "/for-you/rules", {"rule": "exclude: denoising"})
    page = reader.get("/for-you?date=2024-10-25").text
    shown = [pid for pid in _ids_of_category(web_store, "cs.CL") if f'data-paper-id="{pid}"' in page]
    hidden = [pid for pid in _ids_of_category(web_store, "cs.CL") if pid not in shown]
    assert shown and hidden
    for pid in hidden:
        assert "denoising" in web_store.papers.get(pid).abstract


def test_library_import_through_the_form(reader, web_store):
    r = post_form(reader, "/for-you/library", {"ids": "2410.20001\nnonsense\n"})
    assert r.status_code == 200 and "1 matched" in r.text and "pasted list:2: not an arXiv id" in r.text
    assert [row[0] for row in web_store.signals.library(1)] == ["2410.20001"]
    token = page_token(reader, "/")
    big = b"@misc{x, title={y}}\n" * (9 * 1024 * 1024 // 20)
    r = reader.post("/for-you/library", data={"csrf_token": token},
                    files={"file": ("huge.bib", big, "text/x-bibtex")})
    assert r.status_code == 422 and "huge.bib" in r.text and "MB" in r.text
    r = reader.post("/for-you/library", data={"csrf_token": token},
                    files={"file": ("x.bib", b"\x00\x01\x02binary", "application/octet-stream")})
    assert r.status_code == 422 and "binary file" in r.text


def test_private_feed_works_in_feedparser_and_can_be_revoked(reader, client, web_store):
    post_form(reader, "/for-you/follows", {"kind": "category", "value": "cs.CV"})
    r = post_form(reader, "/for-you/feed-token")
    import re

    atom = re.search(r"Atom: <code class=\"token\">([^<]+)</code>", r.text).group(1)
    path = atom.split("testserver", 1)[-1].replace("http://127.0.0.1:8000", "")
    assert path.startswith("/for-you/feed/pbf_")
    anonymous = client.__class__(client.app, base_url="http://testserver")
    feed = feedparser.parse(anonymous.get(path).content)
    assert not feed.bozo and feed.entries
    cv = set(_ids_of_category(web_store, "cs.CV"))
    assert {e.link.rsplit("/", 1)[-1] for e in feed.entries} >= cv
    rss = feedparser.parse(anonymous.get(path.replace(".atom", ".rss")).content)
    assert rss.entries and rss.version.startswith("rss")
    assert anonymous.get(path).headers["cache-control"].startswith("private")
    post_form(reader, "/for-you/feed-token/revoke")
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/for-you/feed/pbf_guessed.atom").status_code == 404


def test_readers_see_only_their_own(app, web_store):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as a, \
            TestClient(app, base_url="http://testserver") as b:
        signup(a, "alice")
        signup(b, "bob")
        post_form(a, "/for-you/follows", {"kind": "author", "value": "Grace Hopper"})
        post_form(a, "/for-you/rules", {"rule": "exclude: diffusion"})
        a_feed = post_form(a, "/for-you/feed-token").text
        assert "Grace Hopper" not in b.get("/for-you/settings").text
        assert b.get("/for-you").text.count("Start your feed") == 1
        data = b.get("/api/v1/me/recommendations?since=2024-10-23&until=2024-10-25").json()
        assert data["data"] == [] and data["has_signals"] is False
        follow_id = web_store.signals.follows(1)[0].id
        assert post_form(b, f"/for-you/follows/{follow_id}/delete").status_code == 404
        assert web_store.signals.follows(1)
        assert "pbf_" in a_feed


def test_account_exports_and_deletes(reader, web_store):
    post_form(reader, "/for-you/follows", {"kind": "organization", "value": "Meta AI"})
    post_form(reader, "/papers/2410.20001/less")
    assert "Delete all my For you data" in reader.get("/account").text
    data = reader.get("/account/for-you.json").json()
    assert data["username"] == "reader" and data["follows"][0]["value"] == "Meta AI"
    assert data["signals"][0]["signal"] == "less"
    recs = data["recommendations"]
    assert recs["day"] == "2024-10-25" and recs["papers"]
    assert any(r["reasons"] == ["you follow organization Meta AI"] for r in recs["papers"])
    r = post_form(reader, "/account/for-you/delete")
    assert r.status_code == 303
    empty = reader.get("/account/for-you.json").json()
    assert empty["follows"] == [] and empty["signals"] == []


def test_for_you_on_both_databases(any_client, any_app):
    """The page, the API and the private feed on the parametrized store (SQLite, PostgreSQL)."""
    store = any_app.state.store
    assert signup(any_client, "both").status_code == 303
    uid = store.accounts.get_by_username("both").id
    for pid in ("2410.20025", "2410.20028"):
        assert post_form(any_client, f"/papers/{pid}/more").status_code == 303
    post_form(any_client, "/for-you/follows", {"kind": "organization", "value": "Google"})
    page = any_client.get("/for-you?week=2024-W43").text
    assert "Close to what you liked" in page and "you follow organization Google" in page
    data = any_client.get("/api/v1/me/recommendations?since=2024-10-23&until=2024-10-25").json()
    assert data["data"] and all(h["id"] not in ("2410.20025", "2410.20028") for h in data["data"])
    token = store.signals.new_feed_token(uid)
    feed = feedparser.parse(any_client.get(f"/for-you/feed/{token}.atom").content)
    assert feed.entries and not feed.bozo
