"""An API token acts for its user on papers, votes and comments, but cannot manage tokens or the
password (issue 14 case 10: an API token could mint new tokens)."""

from __future__ import annotations

from tests.builders import make_paper


def test_api_token_cannot_manage_tokens_or_password(client, app):
    store = app.state.store
    user = store.accounts.create_user("scoped", "scoped@example.org", "$argon2id$unused")
    token, row = store.accounts.create_api_token(user.id, "bot")
    bearer = {"Authorization": f"Bearer {token}"}
    store.papers.upsert([make_paper(id="2410.29991")], "test")

    assert client.post("/api/v1/papers/2410.29991/upvote", headers=bearer).status_code == 200
    for path, data in [("/account/tokens", {"name": "more"}),
                       (f"/account/tokens/{row.id}/revoke", {}),
                       ("/account/password", {"current": "x", "new": "y" * 20, "confirm": "y" * 20})]:
        r = client.post(path, data=data, headers=bearer, follow_redirects=False)
        assert r.status_code == 403, (path, r.status_code)
        assert "an API token cannot manage API tokens or the password" in r.text
    assert client.get("/account", headers=bearer).status_code == 403
    assert [t.name for t in store.accounts.list_api_tokens(user.id)] == ["bot"]
    assert store.accounts.user_for_api_token(token) is not None  # not revoked
