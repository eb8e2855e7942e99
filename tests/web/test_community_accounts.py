"""Accounts through the real app: sign-up, sign-in/out, sessions, password change and reset,
API tokens, profiles; on SQLite and PostgreSQL (``any_client``)."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

from paperboy.community import passwords
from paperboy.community.resets import make_reset_token, read_reset_token
from paperboy.storage.tokens import digest
from paperboy.web.auth import SESSION_COOKIE
from tests.community.web_helpers import (  # noqa: F401 - fixtures
    PASSWORD,
    any_app,
    any_client,
    new_client,
    post_form,
    signin,
    signup,
)


def _session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    return header


def _cookie_value(response) -> str:
    return _session_cookie_header(response).split(";", 1)[0].split("=", 1)[1]


def test_signup_signs_in_with_a_safe_cookie(any_client, any_app):
    r = signup(any_client, "alice")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = _session_cookie_header(r).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # http base_url: a Secure cookie would never come back
    home = any_client.get("/")
    assert 'id="nav-profile"' in home.text and ">alice<" in home.text
    user = any_app.state.store.accounts.get_by_username("alice")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_cookie_is_secure_when_the_instance_is_https(web_store, tmp_path):
    from paperboy.settings import load_settings
    from paperboy.web.app import create_app

    settings = load_settings({"data_dir": tmp_path / "https", "base_url": "https://papers.example.org"},
                             environ={})
    app = create_app(settings, web_store, searcher=False)
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as c:
        r = signup(c, "bob")
        assert r.status_code == 303
        assert "secure" in _session_cookie_header(r).lower()


def test_signup_refuses_bad_and_duplicate_input(any_client):
    assert signup(any_client, "carol").status_code == 303
    fresh = new_client(any_client.app)
    r = signup(fresh, "Carol")
    assert r.status_code == 422 and "username is taken" in r.text
    r = signup(fresh, "dave", email="CAROL@example.org")
    assert r.status_code == 422 and "e-mail address exists" in r.text
    r = signup(fresh, "<script>x</script>")
    assert r.status_code == 422 and "<script>x" not in r.text and "&lt;script&gt;x" in r.text
    assert signup(fresh, "erin", password="short").status_code == 422
    assert signup(fresh, "frank", email="not-an-email").status_code == 422


def test_signin_signout_and_session_rotation(any_client, any_app):
    store = any_app.state.store
    signup(any_client, "gina")
    first = any_client.cookies.get(SESSION_COOKIE)
    post_form(any_client, "/signout")
    assert any_client.cookies.get(SESSION_COOKIE) is None
    assert store.accounts.user_for_session(first) is None
    # A session id planted by an attacker (fixation) is never kept: sign-in issues a new one.
    planted = "attacker-chosen-session-id"
    any_client.cookies.set(SESSION_COOKIE, planted)
    r = signin(any_client, "GINA", next="/users/gina")
    assert r.status_code == 303 and r.headers["location"] == "/users/gina"
    new = _cookie_value(r)
    assert new not in (planted, first)
    assert store.accounts.user_for_session(new).username == "gina"
    # Signing in again rotates too, and the previous session ends.
    any_client.cookies.clear()
    any_client.cookies.set(SESSION_COOKIE, new)
    newer = _cookie_value(signin(any_client, "gina@example.org"))
    assert newer != new and store.accounts.user_for_session(new) is None
    with store.engine.connect() as conn:
        stored = {r[0] for r in conn.exec_driver_sql("SELECT id FROM user_sessions")}
    assert digest(newer) in stored and newer not in stored


def test_wrong_password_and_unknown_user_look_the_same(any_client):
    signup(any_client, "hank")
    c = new_client(any_client.app)
    wrong = signin(c, "hank", password="not the password at all")
    unknown = signin(c, "nobody-here", password="not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username or password." in unknown.text


def test_unknown_user_is_checked_against_a_dummy_hash(client, monkeypatch):
    calls = []
    real = passwords.hasher()

    class Spy:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "hasher", lambda: Spy())
    r = signin(client, "no-such-user", password="whatever password")
    assert r.status_code == 401
    assert calls == [passwords.dummy_hash()]
    assert calls[0].startswith("$argon2id$")


def test_disabled_user_cannot_sign_in(any_client, any_app):
    signup(any_client, "ivan")
    store = any_app.state.store
    store.accounts.set_disabled(store.accounts.get_by_username("ivan").id, True)
    assert any_client.get("/account", follow_redirects=False).status_code == 303  # session ended
    assert signin(new_client(any_client.app), "ivan").status_code == 401
    assert any_client.get("/users/ivan").status_code == 404


def test_password_change_ends_other_sessions(any_client, any_app):
    signup(any_client, "judy")
    other = new_client(any_client.app)
    signin(other, "judy")
    r = post_form(any_client, "/account/password", {"current": "wrong", "new": "x" * 12,
                                                    "confirm": "x" * 12})
    assert r.status_code == 422 and "current password is wrong" in r.text
    new_password = "a brand new passphrase"
    before = any_client.cookies.get(SESSION_COOKIE)
    r = post_form(any_client, "/account/password", {"current": PASSWORD, "new": new_password,
                                                    "confirm": new_password})
    assert r.status_code == 200 and "Password changed" in r.text
    assert any_app.state.store.accounts.user_for_session(before) is None  # rotated
    assert any_client.get("/account").status_code == 200          # this browser stays in
    assert other.get("/account", follow_redirects=False).status_code == 303  # the other ended
    assert signin(new_client(any_client.app), "judy", password=new_password).status_code == 303


def _outbox_link(settings) -> str:
    [eml] = sorted((settings.data_dir / "outbox").glob("*.eml"))
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert msg["To"] == "kim@example.org"
    body = msg.get_content()
    return re.search(r"https?://\S+/reset/\S+", body).group(0)


def test_password_reset_through_the_outbox(any_client, any_app):
    settings = any_app.state.settings
    signup(any_client, "kim")
    anon = new_client(any_client.app)
    r = post_form(anon, "/reset", {"email": "nobody@example.org"})
    assert r.status_code == 200 and "If an account uses that address" in r.text
    assert not (settings.data_dir / "outbox").exists() or not list((settings.data_dir / "outbox").glob("*.eml"))
    r = post_form(anon, "/reset", {"email": "KIM@example.org"})
    assert r.status_code == 200 and "If an account uses that address" in r.text
    link = _outbox_link(settings)
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert anon.get("/" + path).status_code == 200
    r = post_form(anon, "/" + path, {"new": "a fresh passphrase 42", "confirm": "a fresh passphrase 42"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?reset=1"
    assert any_client.get("/account", follow_redirects=False).status_code == 303  # sessions ended
    assert signin(new_client(any_client.app), "kim").status_code == 401
    assert signin(new_client(any_client.app), "kim", password="a fresh passphrase 42").status_code == 303
    # The link works once: the password it was made for is gone, and the page says so.
    used = anon.get("/" + path)
    assert used.status_code == 410 and "already used" in used.text
    assert '<a class="btn" href="/reset">Ask for a new reset link</a>' in used.text
    again = post_form(anon, "/" + path, {"new": "another passphrase 43", "confirm": "another passphrase 43"})
    assert again.status_code == 410 and "already used" in again.text
    assert anon.get("/" + path[:-6]).status_code == 404  # a damaged link is not "used"


def test_reset_tokens_expire_and_are_bound_to_the_secret_key():
    token = make_reset_token("k" * 40, 7, "$argon2id$hash")
    assert read_reset_token("k" * 40, token)[0] == 7
    assert read_reset_token("k" * 40, token, max_age=-1) is None  # expired
    assert read_reset_token("another-instance-key" * 3, token) is None
    assert read_reset_token("k" * 40, token + "x") is None


def test_api_tokens_shown_once_used_as_bearer_and_revoked(any_client):
    signup(any_client, "liam")
    r = post_form(any_client, "/account/tokens", {"name": "my script"})
    assert r.status_code == 200 and "no-store" in r.headers["cache-control"]
    token = re.search(r'<code class="token">(pbt_[^<]+)</code>', r.text).group(1)
    assert token not in any_client.get("/account").text  # shown only once
    api = new_client(any_client.app)
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "liam"
    assert api.get("/api/v1/me").status_code == 401
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', any_client.get("/account").text).group(1)
    assert post_form(any_client, f"/account/tokens/{token_id}/revoke").status_code == 303
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["error"]


def test_someone_elses_token_cannot_be_revoked(any_client, any_app):
    store = any_app.state.store
    signup(any_client, "mia")
    other = store.accounts.create_user("noah", "noah@example.org", passwords.hash_password(PASSWORD))
    _, row = store.accounts.create_api_token(other.id, "noah's")
    assert post_form(any_client, f"/account/tokens/{row.id}/revoke").status_code == 404
    assert store.accounts.list_api_tokens(other.id)[0].revoked_at is None


def test_pages_that_need_an_account_redirect_to_sign_in(client):
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/account"
    assert client.get("/api/v1/me").status_code == 401


def test_next_parameter_cannot_leave_the_site(client):
    signup(client, "olga")
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        assert signin(client, "olga", next=evil).headers["location"] == "/"


def test_password_reset_mail_goes_through_real_smtp(web_store, tmp_path):
    """With SMTP configured, the reset link travels through a real SMTP exchange (aiosmtpd)."""
    from tests.mail.conftest import SinkHandler, SmtpServer, free_port, mail_overrides
    from aiosmtpd.controller import Controller
    from paperboy.settings import load_settings
    from paperboy.web.app import create_app

    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        overrides = mail_overrides(SmtpServer("127.0.0.1", port, handler))
        settings = load_settings({"data_dir": tmp_path / "smtp", **overrides}, environ={})
        app = create_app(settings, web_store, searcher=False)
        with new_client(app) as c:
            signup(c, "smtp-user")
            r = post_form(new_client(app), "/reset", {"email": "smtp-user@example.org"})
            assert r.status_code == 200
            [msg] = handler.to("smtp-user@example.org")
            body = msg.message.get_content()
            link = re.search(r"http://testserver(/reset/\S+)", body).group(1)
            assert new_client(app).get(link).status_code == 200
            assert not (tmp_path / "smtp" / "outbox").exists()
    finally:
        controller.stop()
    # SMTP down: the page answers the same (no 500, nothing revealed)
    settings = load_settings({"data_dir": tmp_path / "down", **overrides, "smtp_retries": 0},
                             environ={})
    app = create_app(settings, web_store, searcher=False)
    r = post_form(new_client(app), "/reset", {"email": "smtp-user@example.org"})
    assert r.status_code == 200 and "If an account uses that address" in r.text
