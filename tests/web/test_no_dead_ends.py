"""No dead ends (issue 15 point 8): every link or button a reader can reach says what happened
and where to go next."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from paperboy.community.resets import make_reset_token
from paperboy.settings import load_settings
from paperboy.web.app import create_app
from tests.community.web_helpers import new_client, page_token, post_form, signup
from tests.web.conftest import seed_papers

HOSTILE = "2410.29999"


def _vote_link(html: str, paper_id: str) -> str:
    card = html[html.index(f'data-paper-id="{paper_id}"'):]
    return re.search(r'<a class="vote-count[^"]*" href="([^"]+)"', card).group(1).replace("&amp;", "&")


def test_a_damaged_reset_link_says_so_and_leads_to_reset(client, app):
    from paperboy.community import passwords

    user = app.state.store.accounts.create_user("olga", "olga@example.org",
                                                passwords.hash_password("a long passphrase 1"))
    token = make_reset_token(app.state.secret_key, user.id, user.password_hash)
    ok = client.get(f"/reset/{token}")
    assert ok.status_code == 200 and 'name="new"' in ok.text
    forged = client.get(f"/reset/{token[:-4]}AAAA")
    assert forged.status_code == 404 and "not valid" in forged.text and 'href="/reset"' in forged.text


def test_expired_reset_link(client, app, monkeypatch):
    from paperboy.community import passwords, resets

    user = app.state.store.accounts.create_user("pia", "pia@example.org",
                                                passwords.hash_password("a long passphrase 2"))
    token = make_reset_token(app.state.secret_key, user.id, user.password_hash)
    monkeypatch.setattr(resets, "RESET_MAX_AGE_S", -1)
    monkeypatch.setattr(resets.read_reset_token, "__defaults__", (-1,))
    r = client.get(f"/reset/{token}")
    assert r.status_code == 410 and "has expired" in r.text and 'href="/reset"' in r.text


def test_a_used_confirmation_link_leads_to_the_preferences(client, app):
    from paperboy.mail.service import MailService

    service = MailService(app.state.settings, app.state.store)
    msg = service.request_subscription("used@example.org")
    token = re.search(r"/mail/confirm/(\S+)", msg.get_body(("plain",)).get_content()).group(1)
    service.confirm(token)
    again = client.get(f"/mail/confirm/{token}")
    assert again.status_code == 200 and "already used" in again.text
    prefs = re.search(r'id="preferences-link" href="([^"]+)"', again.text).group(1)
    assert "used@example.org" in client.get(prefs).text


def test_signed_out_upvote_is_explained_and_recorded_after_sign_in(client, app):
    store = app.state.store
    before = store.community.counts([HOSTILE])[HOSTILE].upvotes_local
    link = _vote_link(client.get("/papers?date=2024-10-25").text, HOSTILE)
    assert link.startswith("/signin?next=/papers%3Fdate%3D2024-10-25&vote=")
    page = client.get(link)
    assert page.status_code == 200 and 'id="pending-vote"' in page.text
    assert "Upvotes need an account" in page.text and "Robust attention" in page.text
    vote = parse_qs(urlsplit(link).query)["vote"][0]
    assert f'name="vote" value="{vote}"' in page.text
    assert store.community.counts([HOSTILE])[HOSTILE].upvotes_local == before  # GET changes nothing
    # sign up from there: the vote is carried to the sign-up form too
    signup_link = re.search(r'href="(/signup\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "vote=" in signup_link and 'name="vote"' in client.get(signup_link).text
    token = page_token(client, link)
    r = client.post("/signup", data={"username": "voter", "email": "voter@example.org",
                                     "password": "correct horse battery staple",
                                     "csrf_token": token, "next": "/papers?date=2024-10-25",
                                     "vote": vote}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/papers?date=2024-10-25"
    assert store.community.counts([HOSTILE])[HOSTILE].upvotes_local == before + 1
    assert 'aria-pressed="true"' in client.get(f"/papers/{HOSTILE}").text  # shown as voted


def test_pending_vote_needs_csrf_a_valid_signature_and_never_toggles(client, app):
    store = app.state.store
    signup(new_client(app), "wren")
    link = _vote_link(client.get("/papers?date=2024-10-25").text, HOSTILE)
    vote = parse_qs(urlsplit(link).query)["vote"][0]
    no_csrf = client.post("/signin", data={"login": "wren", "password": "correct horse battery staple",
                                           "vote": vote}, follow_redirects=False)
    assert no_csrf.status_code == 403
    before = store.community.counts([HOSTILE])[HOSTILE].upvotes_local
    forged = client.post("/signin", data={"login": "wren", "password": "correct horse battery staple",
                                          "vote": vote[:-3] + "xyz", "csrf_token": page_token(client),
                                          "next": "/"}, follow_redirects=False)
    assert forged.status_code == 303 and store.community.counts([HOSTILE])[HOSTILE].upvotes_local == before
    for _ in range(2):  # signing in twice with the same token: still one vote, never taken back
        c = new_client(app)
        c.post("/signin", data={"login": "wren", "password": "correct horse battery staple",
                                "vote": vote, "csrf_token": page_token(c), "next": "/"})
    assert store.community.counts([HOSTILE])[HOSTILE].upvotes_local == before + 1


def test_admin_sees_and_unhides_a_hidden_paper(client, app):
    store = app.state.store
    signup(client, "gwen")
    store.accounts.set_admin(store.accounts.get_by_login("gwen").id, True)
    r = post_form(client, f"/papers/{HOSTILE}/hide")
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{HOSTILE}"
    reader = new_client(app)
    assert reader.get(f"/papers/{HOSTILE}").status_code == 404
    assert HOSTILE not in reader.get("/papers?date=2024-10-25").text
    page = client.get(f"/papers/{HOSTILE}")
    assert page.status_code == 200 and 'id="hidden-notice"' in page.text and 'id="unhide-paper"' in page.text
    assert "Hide paper (admin)" not in page.text
    listing = client.get("/admin/hidden")
    assert listing.status_code == 200 and f'data-paper-id="{HOSTILE}"' in listing.text
    assert reader.get("/admin/hidden", follow_redirects=False).status_code in (303, 403)
    assert post_form(reader, f"/papers/{HOSTILE}/unhide").status_code in (303, 403)
    assert store.community.is_paper_hidden(HOSTILE) is True
    r = post_form(client, f"/papers/{HOSTILE}/unhide")
    assert r.status_code == 303 and store.community.is_paper_hidden(HOSTILE) is False
    assert reader.get(f"/papers/{HOSTILE}").status_code == 200


def test_deleting_a_comment_asks_first(client, app):
    signup(client, "talker")
    post_form(client, f"/papers/{HOSTILE}/comments", {"body": "to be deleted"})
    page = client.get(f"/papers/{HOSTILE}").text
    box = page[page.index('<details class="confirm-delete">'):]
    box = box[: box.index("</details>")]
    assert "<summary" in box and "Delete this comment for good?" in box and 'name="csrf_token"' in box
    comment_id = re.search(r'action="/comments/(\d+)/delete"', box).group(1)
    r = post_form(client, f"/comments/{comment_id}/delete")
    assert r.status_code == 303 and "[deleted by its author]" in client.get(f"/papers/{HOSTILE}").text


@pytest.fixture
def submit_app(web_store, tmp_path):
    from tests.replay import ReplayServer

    down = ReplayServer()
    down.start()
    url = down.url
    down.stop()  # nothing listens there any more: arXiv "could not be reached"
    settings = load_settings({"data_dir": tmp_path / "data2", "ingest_interval_minutes": 0,
                              "arxiv_api_url": url + "/api/query", "http_retries": 0},
                             environ={})
    return create_app(settings, web_store, searcher=False)


def test_offline_submit_speaks_to_the_reader_and_logs_the_detail(submit_app, caplog):
    c = new_client(submit_app)
    signup(c, "offline")
    with caplog.at_level(logging.WARNING, logger="paperboy.community.submit"):
        r = post_form(c, "/submit", {"paper": "2501.00001"})
    assert r.status_code == 422 and "arXiv could not be reached; try again later." in r.text
    assert "127.0.0.1" not in r.text and "Connect" not in r.text
    assert any("2501.00001" in rec.getMessage() and "unreachable" in rec.getMessage()
               for rec in caplog.records)


def test_a_stored_but_never_listed_paper_goes_on_todays_list(submit_app):
    c = new_client(submit_app)
    signup(c, "lister")
    store = submit_app.state.store
    assert store.papers.listings("2410.30001") == []
    r = post_form(c, "/submit", {"paper": "https://arxiv.org/abs/2410.30001"})
    assert r.status_code == 303 and r.headers["location"] == "/papers/2410.30001"  # arXiv not asked
    today = datetime.now(timezone.utc).date()
    [listing] = store.papers.listings("2410.30001")
    assert (listing["source"], listing["submitter"], listing["listed_on"]) == ("submitted", "lister", today)
    assert "submitted by lister" in c.get(f"/papers?date={today.isoformat()}").text
    again = post_form(c, "/submit", {"paper": "2410.30001"})
    assert again.status_code == 409 and 'href="/papers/2410.30001"' in again.text
