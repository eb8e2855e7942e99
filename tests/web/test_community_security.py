"""Security properties of the community features, each checked through the real app."""

from __future__ import annotations

import os
import re
import stat

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperboy.community.ratelimit import Rule
from paperboy.secret_key import load_secret_key
from paperboy.storage import schema
from paperboy.web.security import require_csrf
from tests.community.web_helpers import (
    PASSWORD,
    page_token,
    post_form,
    signin,
    signup,
)

MY_MODULES = ("paperboy.web.routes.community", "paperboy.web.routes.accounts")


def _flat(routes):
    """Routes, looking inside included routers (FastAPI may keep them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route


def _my_routes(app):
    for route in _flat(app.routes):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None and endpoint.__module__ in MY_MODULES:
            yield route


def _calls(dependant):
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def test_every_state_changing_route_requires_csrf(app):
    changing = [r for r in _my_routes(app) if set(r.methods) - {"GET", "HEAD"}]
    assert len(changing) >= 20
    for route in changing:
        assert "GET" not in route.methods, route.path  # no state change on GET
        assert require_csrf in set(_calls(route.dependant)), route.path


def _fill(path: str) -> str:
    return (path.replace("{paper_id:path}", "2410.29999").replace("{comment_id}", "1")
            .replace("{collection_id}", "1").replace("{token_id}", "1").replace("{token}", "x"))


def test_posts_without_a_csrf_token_are_refused(client, app):
    signup(client, "csrf-victim")
    checked = 0
    for route in _my_routes(app):
        for method in set(route.methods) - {"GET", "HEAD"}:
            r = client.request(method, _fill(route.path), data={"body": "x", "name": "x"},
                               follow_redirects=False)
            assert r.status_code == 403, (method, route.path, r.status_code)
            checked += 1
    assert checked >= 20
    assert app.state.store.community.upvote_rows("2410.29999") == 0


def test_cross_site_requests_are_refused_even_with_a_token(client, app):
    signup(client, "csrf-victim2")
    token = page_token(client, "/")
    r = client.post("/api/v1/papers/2410.29999/upvote",
                    headers={"X-CSRF-Token": token, "Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post("/papers/2410.29999/upvote", data={"csrf_token": token},
                    headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/api/v1/papers/2410.29999/upvote", headers={"X-CSRF-Token": "forged.token"})
    assert r.status_code == 403
    assert app.state.store.community.upvote_rows("2410.29999") == 0


def test_bearer_token_scripts_need_no_csrf_token(client, app):
    store = app.state.store
    user = store.accounts.create_user("script-user", "s@example.org", "$argon2id$unused")
    token, _ = store.accounts.create_api_token(user.id, "bot")
    bot = TestClient(app)
    r = bot.post("/api/v1/papers/2410.29999/upvote", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["upvotes_local"] == 1
    # a client that keeps cookies (it got the CSRF cookie from the first answer) keeps working
    assert "pb_csrf" in bot.cookies
    for expected in (False, True):
        r = bot.post("/api/v1/papers/2410.29999/upvote", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["upvoted"] is expected
    r = bot.post("/api/v1/papers/2410.29999/upvote", headers={"Authorization": "Bearer pbt_wrong"})
    assert r.status_code == 401
    # a Bearer header never lends the session cookie's authority: the token decides
    signup(client, "cookie-holder")
    r = client.post("/api/v1/papers/2410.29999/upvote", headers={"Authorization": "Bearer pbt_forged"})
    assert r.status_code == 401


def _snapshot(store) -> dict:
    tables = [schema.users, schema.user_sessions, schema.api_tokens, schema.upvotes,
              schema.comments, schema.collections, schema.collection_items, schema.paper_stats,
              schema.papers, schema.daily_listings]
    with store.engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in tables}
        counts["hidden"] = conn.execute(select(func.count()).select_from(schema.papers)
                                        .where(schema.papers.c.hidden.is_(True))).scalar_one()
        counts["revoked"] = conn.execute(select(func.count()).select_from(schema.api_tokens)
                                         .where(schema.api_tokens.c.revoked_at.is_not(None))).scalar_one()
    return counts


def test_no_state_change_on_get(client, app):
    store = app.state.store
    signup(client, "get-tester")
    post_form(client, "/papers/2410.29999/comments", {"body": "hello"})
    post_form(client, "/collections", {"name": "mine"})
    post_form(client, "/account/tokens", {"name": "t"})
    before = _snapshot(store)
    for route in _my_routes(app):
        path = _fill(route.path)
        # GET on every route of the area, including POST-only paths (405, never a change)
        client.get(path, follow_redirects=False)
        client.get("/signout", follow_redirects=False)
    assert _snapshot(store) == before
    assert client.get("/account").status_code == 200  # still signed in after GET /signout


def test_login_is_rate_limited_per_ip(app):
    from paperboy.community.ratelimit import DEFAULT_RULES

    assert DEFAULT_RULES["login:ip"] == Rule(20, 300)
    app.state.rate_limiter.rules["login:ip"] = Rule(6, 300)  # same code path, fewer argon2 runs
    c = TestClient(app, client=("203.0.113.7", 1234))
    codes = [signin(c, f"nobody{i}", password="wrong password").status_code for i in range(7)]
    assert codes[:6] == [401] * 6 and codes[6] == 429
    r = signin(c, "nobody-else", password="wrong password")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # another address is not affected
    assert signin(TestClient(app, client=("203.0.113.8", 1)), "x", password="y").status_code == 401


def test_login_is_rate_limited_per_account_across_addresses(app):
    app.state.store.accounts.create_user("target", "target@example.org",
                                         __import__("paperboy.community.passwords", fromlist=["x"]).hash_password(PASSWORD))
    for i in range(5):
        c = TestClient(app, client=(f"198.51.100.{i}", 1))
        assert signin(c, "target", password=f"guess number {i}").status_code == 401
    c = TestClient(app, client=("198.51.100.99", 1))
    r = signin(c, "TARGET@example.org", password=PASSWORD)  # even the right password waits
    assert r.status_code == 429 and "this account" in r.text


def test_signup_is_rate_limited_per_ip(app):
    codes = [signup(TestClient(app, client=("192.0.2.1", 1)), f"newbie{i}").status_code for i in range(6)]
    assert codes == [303] * 5 + [429]
    assert signup(TestClient(app, client=("192.0.2.2", 1)), "newbie-elsewhere").status_code == 303


def test_secret_key_is_generated_per_instance_and_private(tmp_path):
    a = load_secret_key(tmp_path / "a")
    b = load_secret_key(tmp_path / "b")
    assert a != b and len(a) >= 32
    assert load_secret_key(tmp_path / "a") == a  # stable across restarts
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / "secret_key").st_mode)
    assert mode == 0o600


def test_reset_links_of_another_instance_are_refused(client, app, tmp_path):
    from paperboy.community.resets import make_reset_token

    signup(client, "victim")
    user = app.state.store.accounts.get_by_username("victim")
    forged = make_reset_token(load_secret_key(tmp_path / "other"), user.id, user.password_hash)
    assert client.get(f"/reset/{forged}").status_code == 404
    good = make_reset_token(app.state.secret_key, user.id, user.password_hash)
    assert client.get(f"/reset/{good}").status_code == 200


def test_usernames_cannot_carry_markup_and_profiles_escape(client):
    assert signup(client, 'x"><script>').status_code == 422
    assert signup(client, "javascript:alert(1)").status_code == 422


def test_security_headers_and_no_inline_script_on_community_pages(client):
    signup(client, "headers")
    for path in ("/account", "/collections", "/users/headers", "/papers/2410.29999", "/signin"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path


def test_hostile_imported_links_are_not_linked(client, app):
    from tests.builders import make_listing, make_paper

    app.state.store.papers.upsert([make_paper(
        id="2410.11111", title="<script>alert('t')</script>", code_url="javascript:alert(1)",
        project_url=" JaVaScRiPt:alert(2)", abs_url="javascript:alert(3)",
        pdf_url="data:text/html,<script>alert(4)</script>", organization="<img src=x onerror=alert(5)>",
        authors=["<b onmouseover=alert(6)>Eve</b>"], listing=make_listing())], source="hf")
    signup(client, "reader")
    post_form(client, "/papers/2410.11111/upvote")
    post_form(client, "/collections", {"name": "c", "public": "1", "paper_id": "2410.11111"})
    for path in ("/papers/2410.11111", "/papers?date=2024-10-25", "/users/reader", "/collections/1"):
        html = client.get(path).text
        assert not re.search(r"""href=["']?\s*(javascript|data):""", html, re.I), path
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "<b onmouseover" not in html, path
    assert 'href="https://arxiv.org/abs/2410.11111"' in client.get("/papers/2410.11111").text


def test_signup_attempts_are_rate_limited_per_account(app):
    """Probing whether an address is registered is slow, from however many addresses."""
    codes = [signup(TestClient(app, client=(f"192.0.2.{10 + i}", 1)), f"probe{i}",
                    email="someone@example.org").status_code for i in range(6)]
    assert codes[0] == 303 and codes[1:5] == [422] * 4 and codes[5] == 429
