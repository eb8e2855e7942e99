"""Save this search (issue 15 point 7): from the search page, as an e-mail alert confirmed by
the address (double opt-in through the digest machinery) or as an Atom/RSS feed link."""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.mail.test_web import csrf_of, mails_to, wait_for

ALERT_SUBJECT = "Confirm your Paperboy search alert"


def _alert_link(msg) -> str:
    text = msg.get_body(("plain",)).get_content()
    return re.search(r"(http://127\.0\.0\.1:\d+/mail/alerts/confirm/[A-Za-z0-9_.\-]+)", text).group(1)


@pytest.fixture
def web(sqlite_mail_app):
    from tests.web.conftest import seed_papers

    seed_papers(sqlite_mail_app.store)
    with httpx.Client(base_url=sqlite_mail_app.url, follow_redirects=False, timeout=10) as c:
        yield c


def test_search_page_offers_alert_and_feeds_with_its_filters(web):
    page = web.get("/search", params={"q": "scaling", "category": "cs.CL", "author": "Grace Hopper",
                                      "code": "1"}).text
    box = page[page.index('id="save-search"'):]
    query = 'scaling cat:cs.CL author:"Grace Hopper" has:code'
    assert htmllib.unescape(re.search(r'name="q" value="([^"]+)"', box).group(1)) == query
    atom = htmllib.unescape(re.search(r'id="search-atom" href="([^"]+)"', box).group(1))
    feed = web.get(atom)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    assert 'action="/search/alert"' in box and 'name="csrf_token"' in box
    assert 'id="save-search"' not in web.get("/search").text  # nothing to save yet


def test_alert_for_a_new_address_is_double_opt_in(web, sqlite_mail_app, smtp_server):
    store = sqlite_mail_app.store
    page = web.get("/search", params={"q": "retrieval heads"}).text
    r = web.post("/search/alert", data={"email": "Alert@Example.org", "q": "retrieval heads",
                                        "csrf_token": csrf_of(page)})
    assert r.status_code == 200 and "confirms the alert" in r.text
    (msg,) = wait_for(lambda: mails_to(smtp_server, "Alert@example.org", ALERT_SUBJECT))
    html_part = msg.get_body(("html",)).get_content()
    assert "retrieval heads" in msg.get_body(("plain",)).get_content() and "Confirm this alert" in html_part
    sub = store.subscriptions.get_by_email_key("alert@example.org")
    assert sub.status == "pending" and store.subscriptions.saved_searches(sub.id) == []

    link = _alert_link(msg)
    shown = web.get(link)
    assert shown.status_code == 200 and "Confirm alert" in shown.text
    assert store.subscriptions.get(sub.id).status == "pending"  # a GET changes nothing
    assert web.post(link, data={}).status_code == 403  # CSRF kept
    done = web.post(link, data={"csrf_token": csrf_of(shown.text)})
    assert done.status_code == 200 and "Alert saved" in done.text
    assert store.subscriptions.get(sub.id).status == "active"
    assert [s.query for s in store.subscriptions.saved_searches(sub.id)] == ["retrieval heads"]
    prefs = re.search(r'id="preferences-link" href="([^"]+)"', done.text).group(1)
    assert "retrieval heads" in web.get(prefs).text


def test_alert_for_a_subscribed_address_asks_its_owner(web, sqlite_mail_app, smtp_server):
    store = sqlite_mail_app.store
    an_hour_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    sub = store.subscriptions.subscribe("owner@example.org", "owner@example.org", "daily", [], 10,
                                        now=an_hour_ago).subscriber
    sub = store.subscriptions.confirm(sub.id, sub.token_nonce)
    page = web.get("/search", params={"q": "diffusion"}).text
    r = web.post("/search/alert", data={"email": "owner@example.org", "q": "diffusion cat:cs.CV",
                                        "csrf_token": csrf_of(page)})
    assert r.status_code == 200
    (msg,) = wait_for(lambda: mails_to(smtp_server, "owner@example.org", ALERT_SUBJECT))
    assert store.subscriptions.saved_searches(sub.id) == []  # not before the owner confirms
    assert "with your daily Paperboy digest" in msg.get_body(("plain",)).get_content()
    link = _alert_link(msg)
    web.post(link, data={"csrf_token": csrf_of(web.get(link).text)})
    assert [s.query for s in store.subscriptions.saved_searches(sub.id)] == ["diffusion cat:cs.CV"]


def test_bad_requests_answer_in_one_line(web):
    page = web.get("/search", params={"q": "x"}).text
    bad = web.post("/search/alert", data={"email": "not-an-address", "q": "x", "csrf_token": csrf_of(page)})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    empty = web.post("/search/alert", data={"email": "a@example.org", "q": "  ", "csrf_token": csrf_of(page)})
    assert empty.status_code == 422 and "empty" in empty.text
    assert web.post("/search/alert", data={"email": "a@example.org", "q": "x"}).status_code == 403
    assert web.get("/mail/alerts/confirm/forged.token.here").status_code == 400
