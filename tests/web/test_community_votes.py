"""Upvotes and discussions through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from paperboy.community.ratelimit import Rule
from tests.community.web_helpers import (  # noqa: F401 - fixtures
    any_app,
    any_client,
    json_post,
    new_client,
    page_token,
    post_form,
    signin,
    signup,
)
from tests.web.conftest import HOSTILE_TITLE


def _user(app, name, admin=False):
    from tests.community.conftest import PASSWORD as P  # same password
    from paperboy.community.passwords import hash_password

    return app.state.store.accounts.create_user(name, f"{name}@example.org", hash_password(P),
                                                is_admin=admin)


def test_form_upvote_toggles_and_redirects_back(any_client, any_app):
    pid = any_app.state.seed["hostile"]  # 99 imported upvotes
    signup(any_client, "amy")
    r = post_form(any_client, f"/papers/{pid}/upvote", {"next": "/papers?date=2024-10-25"})
    assert r.status_code == 303 and r.headers["location"] == "/papers?date=2024-10-25"
    page = any_client.get(f"/papers/{pid}").text
    assert 'aria-pressed="true"' in page and '<span class="n">100</span>' in page
    assert '99 imported + <span class="local">1</span> here' in page
    post_form(any_client, f"/papers/{pid}/upvote")
    page = any_client.get(f"/papers/{pid}").text
    assert 'aria-pressed="false"' in page and '<span class="n">99</span>' in page


def test_json_upvote_reports_imported_and_local(any_client, any_app):
    pid = any_app.state.seed["hostile"]
    signup(any_client, "ben")
    r = json_post(any_client, f"/api/v1/papers/{pid}/upvote")
    assert r.status_code == 200
    assert r.json() | {} == {"paper_id": pid, "upvoted": True, "upvotes": 100,
                             "upvotes_imported": 99, "upvotes_local": 1, "comments": 5,
                             "comments_imported": 5, "comments_local": 0}
    # explicit set is idempotent
    assert json_post(any_client, f"/api/v1/papers/{pid}/upvote", json={"upvoted": True}).json()["upvotes_local"] == 1
    assert json_post(any_client, f"/api/v1/papers/{pid}/upvote", json={"upvoted": False}).json()["upvoted"] is False
    info = any_client.get(f"/api/v1/papers/{pid}/community").json()
    assert (info["upvotes_imported"], info["upvotes_local"], info["upvoted"]) == (99, 0, False)


def test_counts_show_on_cards_feed_order_and_hf_api(any_client, any_app):
    store = any_app.state.store
    day = "2024-10-23"
    before = any_client.get(f"/api/daily_papers?date={day}&sort=trending").json()
    last_id = before[-1]["paper"]["id"]
    last_up = before[-1]["paper"]["upvotes"]
    for i in range(45):  # more than any imported count of that day
        u = store.accounts.create_user(f"voter{i}", f"voter{i}@example.org", "$argon2id$x")
        store.community.set_upvote(u.id, last_id)
    after = any_client.get(f"/api/daily_papers?date={day}&sort=trending").json()
    assert after[0]["paper"]["id"] == last_id
    assert after[0]["paper"]["upvotes"] == last_up + 45
    feed = any_client.get(f"/papers?date={day}").text
    card = feed[feed.index(f'data-paper-id="{last_id}"'):]
    assert re.search(rf'<span class="n">{last_up + 45}</span>', card[:1500])
    top = any_client.get(f"/papers?date={day}&sort=upvotes").text
    assert re.search(r'data-paper-id="([^"]+)"', top).group(1) == last_id


def test_anonymous_cannot_vote(client, app):
    r = client.post("/api/v1/papers/2410.29999/upvote", headers={"X-CSRF-Token": page_token(client, "/")})
    assert r.status_code == 401
    r = post_form(client, "/papers/2410.29999/upvote")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert app.state.store.community.upvote_rows("2410.29999") == 0


def test_vote_on_unknown_paper_is_404(client):
    signup(client, "cleo")
    assert json_post(client, "/api/v1/papers/9999.99999/upvote").status_code == 404
    assert post_form(client, "/papers/not-an-id/upvote").status_code == 404


def test_votes_are_rate_limited(client, app):
    app.state.rate_limiter.rules["vote:user"] = Rule(3, 60)
    signup(client, "dora")
    codes = [json_post(client, "/api/v1/papers/2410.29999/upvote").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_comment_markdown_is_sanitized_and_tex_kept(any_client, any_app):
    pid = any_app.state.seed["first"]
    signup(any_client, "eve")
    body = ("Nice *result* with `code<x>` and [link](https://example.org). "
            "Bound $O(n_1 n_2)$ holds.\n\n<script>alert(1)</script> "
            "[bad](javascript:alert(2)) <img src=x onerror=alert(3)>")
    r = post_form(any_client, f"/papers/{pid}/comments", {"body": body})
    assert r.status_code == 303 and re.match(rf"/papers/{pid}#comment-\d+", r.headers["location"])
    page = any_client.get(f"/papers/{pid}").text
    html = page[page.index('<div class="comment-body">'):]
    html = html[: html.index("</div>")]
    assert "<em>result</em>" in html and "<code>code&lt;x&gt;</code>" in html
    assert 'href="https://example.org"' in html and 'rel="nofollow noopener noreferrer ugc"' in html
    assert '<span class="math" title="$O(n_1 n_2)$"><math' in html
    assert "<script" not in html and "javascript:" not in html.replace("[bad](javascript:alert(2))", "")
    assert "<img" not in html and "onerror" not in html.replace("&lt;img src=x onerror=alert(3)&gt;", "")
    assert 'href="javascript' not in page


def test_comment_counts_edit_delete_and_authorization(any_client, any_app):
    store = any_app.state.store
    pid = any_app.state.seed["first"]
    signup(any_client, "finn")
    post_form(any_client, f"/papers/{pid}/comments", {"body": "first thoughts"})
    [c] = store.community.comments_for(pid)
    assert store.community.counts([pid])[pid].comments_local == 1
    api = any_client.get("/api/daily_papers?date=2024-10-23").json()
    [entry] = [e for e in api if e["paper"]["id"] == pid]
    assert entry["numComments"] == 0 + 1
    # someone else cannot edit or delete it (404: it is not theirs)
    other = new_client(any_client.app)
    _user(any_app, "gus")
    signin(other, "gus")
    assert other.get(f"/comments/{c.id}/edit").status_code == 404
    assert post_form(other, f"/comments/{c.id}/edit", {"body": "hijacked"}).status_code == 404
    assert post_form(other, f"/comments/{c.id}/delete").status_code == 404
    assert post_form(other, f"/comments/{c.id}/hide").status_code == 403
    assert store.community.get_comment(c.id).body == "first thoughts"
    # the author edits and deletes
    assert any_client.get(f"/comments/{c.id}/edit").status_code == 200
    assert post_form(any_client, f"/comments/{c.id}/edit", {"body": "second thoughts"}).status_code == 303
    assert "second thoughts" in any_client.get(f"/papers/{pid}").text
    assert post_form(any_client, f"/comments/{c.id}/delete").status_code == 303
    page = any_client.get(f"/papers/{pid}").text
    assert "second thoughts" not in page and "[deleted by its author]" in page
    assert store.community.counts([pid])[pid].comments_local == 0


def test_admin_hides_comment_and_paper(any_client, any_app):
    store = any_app.state.store
    pid = any_app.state.seed["first"]
    signup(any_client, "hugo")
    post_form(any_client, f"/papers/{pid}/comments", {"body": "spam spam spam"})
    [c] = store.community.comments_for(pid)
    admin = new_client(any_client.app)
    _user(any_app, "root-admin", admin=True)
    signin(admin, "root-admin")
    assert post_form(admin, f"/comments/{c.id}/hide").status_code == 303
    assert "spam spam spam" not in any_client.get(f"/papers/{pid}").text
    assert "[hidden by a moderator]" in any_client.get(f"/papers/{pid}").text
    assert "spam spam spam" in admin.get(f"/papers/{pid}").text  # admins still see it
    assert post_form(any_client, f"/comments/{c.id}/edit", {"body": "x"}).status_code == 404
    # hide a paper: gone from its page and from the feed
    assert post_form(any_client, f"/papers/{pid}/hide").status_code == 403
    assert post_form(admin, f"/papers/{pid}/hide").status_code == 303
    assert any_client.get(f"/papers/{pid}").status_code == 404
    assert f'data-paper-id="{pid}"' not in any_client.get("/papers?date=2024-10-23").text


def test_comments_are_rate_limited(client, app):
    app.state.rate_limiter.rules["comment:user"] = Rule(2, 300)
    signup(client, "ivy")
    codes = [post_form(client, "/papers/2410.29999/comments", {"body": f"c{i}"}).status_code
             for i in range(3)]
    assert codes == [303, 303, 429]


def test_empty_and_huge_comments_are_refused(client):
    signup(client, "jack")
    assert post_form(client, "/papers/2410.29999/comments", {"body": "   "}).status_code == 422
    assert post_form(client, "/papers/2410.29999/comments", {"body": "x" * 10_001}).status_code == 422


def test_hostile_imported_title_is_inert_on_community_pages(client, app):
    signup(client, "kate")
    post_form(client, "/papers/2410.29999/upvote")
    profile = client.get("/users/kate").text
    assert HOSTILE_TITLE not in profile and "&lt;script&gt;alert" in profile


def test_apis_tell_imported_and_local_votes_apart(any_client, any_app):
    pid = any_app.state.seed["hostile"]
    signup(any_client, "lena")
    json_post(any_client, f"/api/v1/papers/{pid}/upvote")
    [hf] = [e for e in any_client.get("/api/daily_papers?date=2024-10-25").json()
            if e["paper"]["id"] == pid]
    assert (hf["paper"]["upvotes"], hf["paper"]["upvotesImported"], hf["paper"]["upvotesLocal"]) == (100, 99, 1)
    native = any_client.get("/api/v1/feed?date=2024-10-25&limit=100").json()["data"]
    [item] = [d for d in native if d["id"] == pid]
    assert (item["upvotes"], item["upvotes_imported"], item["upvotes_local"]) == (100, 99, 1)


def test_admin_disables_a_user_from_the_profile(any_client, any_app):
    store = any_app.state.store
    signup(any_client, "troll")
    admin = new_client(any_client.app)
    _user(any_app, "mod", admin=True)
    signin(admin, "mod")
    assert 'id="disable-user"' in admin.get("/users/troll").text
    assert 'id="disable-user"' not in any_client.get("/users/troll").text
    assert post_form(any_client, "/users/mod/disable").status_code == 403  # not an admin
    assert post_form(admin, "/users/troll/disable").status_code == 303
    assert store.accounts.get_by_username("troll").disabled
    assert any_client.get("/account", follow_redirects=False).status_code == 303  # signed out
    assert signin(new_client(any_client.app), "troll").status_code == 401


def test_comments_api_for_scripts(any_client, any_app):
    store = any_app.state.store
    pid = any_app.state.seed["first"]
    user = _user(any_app, "scripter")
    token, _ = store.accounts.create_api_token(user.id, "bot")
    bot = new_client(any_client.app)
    r = bot.post(f"/api/v1/papers/{pid}/comments", json={"body": "From a *script* <script>x</script>"},
                 headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    made = r.json()
    assert made["author"] == "scripter" and "<em>script</em>" in made["html"]
    assert "<script>" not in made["html"]
    listed = any_client.get(f"/api/v1/papers/{pid}/comments").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == made["id"]
    assert bot.post(f"/api/v1/papers/{pid}/comments", json={"body": "x"}).status_code == 401
    assert bot.post(f"/api/v1/papers/{pid}/comments", json={"body": "  "},
                    headers={"Authorization": f"Bearer {token}"}).status_code == 422
    store.community.set_comment_hidden(made["id"], True)
    hidden = any_client.get(f"/api/v1/papers/{pid}/comments").json()["data"][0]
    assert hidden["hidden"] and hidden["body"] is None and hidden["html"] is None
    assert any_client.get("/api/v1/papers/9999.99999/comments").status_code == 404


def test_a_page_of_cards_reads_the_viewers_votes_once(client, app):
    """Templates get data: the viewer's upvotes for the whole page in one query, not one a card."""
    from sqlalchemy import event

    pid = "2410.29999"  # the hostile-title paper of the web seed, listed on 2024-10-25
    signup(client, "pat")
    post_form(client, f"/papers/{pid}/upvote")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(app.state.store.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/papers?date=2024-10-25").text
    finally:
        event.remove(app.state.store.engine, "before_cursor_execute", seen)
    cards = re.findall(r'<article class="card" data-paper-id="([^"]+)"', page)
    assert len(cards) == 13 and pid in cards
    pressed = re.findall(r'data-upvote="([^"]+)">.*?aria-pressed="(true|false)"', page, re.S)
    assert dict(pressed) == {c: ("true" if c == pid else "false") for c in cards}
    vote_reads = [s for s in statements if "FROM upvotes" in s]
    assert len(vote_reads) == 1
