"""Requests that send mail are limited per client and for the whole server (issue 14 case 5:
130 addresses from one client used to get 130 confirmation mails in seconds)."""

from __future__ import annotations


from fastapi.testclient import TestClient

from paperboy.web.app import create_app


def _outbox(settings) -> int:
    outbox = settings.data_dir / "outbox"
    return len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0


def test_one_client_cannot_mail_bomb_through_subscriptions(web_settings, web_store):
    app = create_app(web_settings.model_copy(update={"mail_requests_per_client": 5, "mail_requests_per_hour": 8}),
                     web_store, searcher=False)
    with TestClient(app, client=("203.0.113.7", 4000)) as one:
        answers = [one.post("/api/v1/subscriptions", json={"email": f"victim{n}@example.org"})
                   for n in range(12)]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 7
    assert "too many mail attempts" in answers[-1].json()["error"]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert _outbox(web_settings) == 5
    # Many clients together meet the global limit: 8 an hour in all here.
    codes = []
    for n in range(6):
        with TestClient(app, client=(f"198.51.100.{n}", 4000)) as other:
            codes.append(other.post("/api/v1/subscriptions",
                                    json={"email": f"other{n}@example.org"}).status_code)
    assert codes == [202, 202, 202, 429, 429, 429]
    assert _outbox(web_settings) == 8


def test_password_reset_counts_as_mail(web_settings, web_store):
    app = create_app(web_settings.model_copy(update={"mail_requests_per_client": 2}), web_store, searcher=False)
    with TestClient(app, client=("203.0.113.9", 4000)) as c:
        token = c.get("/reset").text.split('name="csrf_token" value="')[1].split('"')[0]
        codes = [c.post("/reset", data={"email": f"x{n}@example.org", "csrf_token": token},
                        follow_redirects=False).status_code for n in range(3)]
    assert codes == [200, 200, 429]
