"""Subscribe -> confirm -> digest -> links, through the real app served on loopback and a real
SMTP server (SQLite and PostgreSQL)."""

from __future__ import annotations

import html as htmllib
import re
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from paperboy.mail.digest import local_today, send_digests
from tests.builders import make_listing, make_paper
from tests.community.web_helpers import signup

CONFIRM_SUBJECT = "Confirm your Paperboy subscription"


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def links(text: str, kind: str) -> list[str]:
    return re.findall(rf"(http://127\.0\.0\.1:\d+/mail/{kind}/[A-Za-z0-9_.\-]+(?:/stop)?)", text)


def mails_to(smtp_server, address, subject_start=""):
    return [m.message for m in smtp_server.handler.to(address)
            if m.message["Subject"].startswith(subject_start)]


def test_subscribe_confirm_digest_and_every_link(mail_app, smtp_server):
    web = httpx.Client(base_url=mail_app.url, follow_redirects=False, timeout=10)
    home = web.get("/")
    assert home.status_code == 200 and 'action="/subscribe"' in home.text

    # 1. Subscribe through the footer form (CSRF token from the page).
    r = web.post("/subscribe", data={"email": "Reader@Example.org", "period": "daily",
                                     "csrf_token": csrf_of(home.text)})
    assert r.status_code == 200 and "a message is on its way" in r.text
    (confirm_mail,) = wait_for(lambda: mails_to(smtp_server, "Reader@example.org", CONFIRM_SUBJECT))
    store = mail_app.store
    assert store.subscriptions.get_by_email_key("reader@example.org").status == "pending"

    # 2. Nothing but the confirmation goes to an unconfirmed address.
    yesterday = local_today(mail_app.settings) - timedelta(days=1)
    store.papers.upsert([make_paper(title=f"Trending {i}", listing=make_listing(listed_on=yesterday, upvotes=i))
                         for i in range(3)], "hf")
    assert send_digests(mail_app.settings, store, None, "daily").sent == 0

    # 3. The confirmation link: GET shows a button and changes nothing; its POST confirms.
    (confirm_url,) = set(links(confirm_mail.get_body(("plain",)).get_content(), "confirm"))
    page = web.get(confirm_url)
    assert page.status_code == 200 and "Confirm subscription" in page.text
    assert store.subscriptions.get_by_email_key("reader@example.org").status == "pending"
    done = web.post(confirm_url, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert store.subscriptions.get_by_email_key("reader@example.org").status == "active"

    # 4. The digest: both parts, RFC 8058 headers, links to this instance.
    report = send_digests(mail_app.settings, store, None, "daily")
    assert report.sent == 1
    (digest,) = mails_to(smtp_server, "Reader@example.org", "Paperboy daily digest")
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert "Trending 2" in text and "Trending 2" in html
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url, mailto = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    assert mailto.startswith("mailto:")
    paper_links = re.findall(rf"{re.escape(mail_app.url)}/papers/[0-9.]+", text)
    assert paper_links and all(web.get(u).status_code == 200 for u in set(paper_links))

    # 5. Preferences from the mail: change period/categories, add and stop alerts.
    (prefs_url,) = set(links(text, "preferences"))
    assert prefs_url in htmllib.unescape(html)
    prefs = web.get(prefs_url)
    assert prefs.status_code == 200 and "Reader@example.org" in prefs.text
    token = csrf_of(prefs.text)
    r = web.post(prefs_url, data={"period": "weekly", "category": ["cs.CL", "cs.LG"],
                                  "other_categories": "stat.ML", "max_papers": "7",
                                  "csrf_token": token})
    assert r.status_code == 303
    sub = store.subscriptions.get_by_email_key("reader@example.org")
    assert (sub.period, sub.categories, sub.max_papers) == ("weekly", ["cs.CL", "cs.LG", "stat.ML"], 7)
    bad = web.post(prefs_url, data={"period": "hourly", "csrf_token": token})
    assert bad.status_code == 422 and "daily or weekly" in bad.text
    for query in ("retrieval heads", "author: Karpathy"):
        assert web.post(prefs_url + "/alerts", data={"query": query, "csrf_token": token}).status_code == 303
    alerts = store.subscriptions.saved_searches(sub.id)
    assert [a.query for a in alerts] == ["retrieval heads", "author: Karpathy"]
    r = web.post(f"{prefs_url}/alerts/{alerts[1].id}/stop", data={"csrf_token": token})
    assert r.status_code == 303
    assert [a.query for a in store.subscriptions.saved_searches(sub.id)] == ["retrieval heads"]
    # Without the CSRF token the preference forms are refused.
    assert web.post(prefs_url, data={"period": "daily"}).status_code == 403

    # 6. The stop-this-alert link (as mailed): GET asks, POST stops.
    from paperboy.mail.service import MailService

    stop_url = MailService(mail_app.settings, store).builder.links.stop_alert(sub, alerts[0])
    assert "Stop this alert?" in web.get(stop_url).text
    assert store.subscriptions.saved_searches(sub.id)
    stopped = web.post(stop_url)
    assert stopped.status_code == 200 and "Alert stopped" in stopped.text
    assert store.subscriptions.saved_searches(sub.id) == []

    # 7. One-click unsubscribe: GET only shows a button; a bare POST (no cookie, no CSRF token)
    #    unsubscribes and answers 200 without a redirect.
    scanner = httpx.Client(timeout=10)
    page = scanner.get(unsubscribe_url)
    assert page.status_code == 200 and "Unsubscribe?" in page.text
    assert store.subscriptions.get(sub.id).status == "active"
    r = httpx.post(unsubscribe_url, content=b"List-Unsubscribe=One-Click",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.status_code == 200 and "Unsubscribed" in r.text and "location" not in r.headers
    assert store.subscriptions.get(sub.id).status == "unsubscribed"
    assert httpx.post(unsubscribe_url, timeout=10).status_code == 200  # idempotent
    # Forged or damaged tokens are refused.
    assert httpx.post(unsubscribe_url[:-3] + "abc", timeout=10).status_code == 400
    assert web.get(prefs_url.replace("/preferences/", "/preferences/x")).status_code == 400


def test_resubscribing_never_leaks_and_mails_after_answering(mail_app, smtp_server):
    """New, pending, active and unsubscribed addresses get the same answer, and the mail is sent
    after the response (the SMTP server below holds every message until released)."""
    store = mail_app.store
    repo = store.subscriptions
    earlier = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    subs = {a: repo.subscribe(f"{a}@example.org", f"{a}@example.org", "daily", [], 5, now=earlier).subscriber
            for a in ("pending", "active", "gone")}
    repo.confirm(subs["active"].id, subs["active"].token_nonce)
    repo.unsubscribe(subs["gone"].id, subs["gone"].token_nonce)

    gate = threading.Event()
    smtp_server.handler.on_data = lambda received: gate.wait(10)
    answers = []
    try:
        for address in ("new@example.org", "pending@example.org", "active@example.org",
                        "gone@example.org"):
            before = len(smtp_server.handler.messages)
            r = httpx.post(f"{mail_app.url}/api/v1/subscriptions", json={"email": address},
                           timeout=10)
            answers.append((r.status_code, r.json()))
            # Answered while the SMTP server still holds the mail: sending is not in the request.
            assert len(smtp_server.handler.messages) <= before + 1
            assert not gate.is_set()
    finally:
        gate.set()
        smtp_server.handler.on_data = None
    assert len({repr(a) for a in answers}) == 1 and answers[0][0] == 202
    wait_for(lambda: len(mails_to(smtp_server, "gone@example.org", CONFIRM_SUBJECT)) == 1)
    wait_for(lambda: mails_to(smtp_server, "new@example.org", CONFIRM_SUBJECT))
    wait_for(lambda: mails_to(smtp_server, "active@example.org", "You already get"))
    # The active subscriber's notice links to its preferences; nothing about it reached the caller.
    (notice,) = mails_to(smtp_server, "active@example.org", "You already get")
    assert "/mail/preferences/" in notice.get_body(("plain",)).get_content()
    assert store.subscriptions.get_by_email_key("gone@example.org").status == "pending"
    # Bad input is a clear 422, whatever the address.
    r = httpx.post(f"{mail_app.url}/api/v1/subscriptions", json={"email": "not-an-address"}, timeout=10)
    assert r.status_code == 422 and "e-mail address" in r.text
    r = httpx.post(f"{mail_app.url}/api/v1/subscriptions", data={"email": "a@b.org"}, timeout=10)
    assert r.status_code == 422  # form bodies are not accepted by the JSON endpoint


def test_subscribe_form_needs_csrf_and_rejects_bad_addresses(sqlite_mail_app):
    web = httpx.Client(base_url=sqlite_mail_app.url, timeout=10)
    assert web.post("/subscribe", data={"email": "x@example.org"}).status_code == 403
    home = web.get("/")
    r = web.post("/subscribe", data={"email": "<script>@x", "csrf_token": csrf_of(home.text)})
    assert r.status_code == 422 and "<script>" not in r.text and "not valid" in r.text


def test_signed_in_account_reaches_its_own_preferences(sqlite_mail_app, smtp_server):
    web = httpx.Client(base_url=sqlite_mail_app.url, timeout=10, follow_redirects=False)
    assert web.get("/mail/account").status_code == 303  # not signed in: to the sign-in page
    r = signup(web, "mailreader", email="MailReader@example.org")
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    assert 'href="/mail/account"' in web.get("/account").text
    page = web.get("/mail/account")
    assert page.status_code == 200 and "Subscribe MailReader@example.org" in page.text
    # Subscribing from the account page links the subscription to the account.
    r = web.post("/subscribe", data={"email": "MailReader@example.org", "period": "weekly",
                                     "csrf_token": csrf_of(page.text)})
    assert r.status_code == 200
    (confirm_mail,) = wait_for(lambda: mails_to(smtp_server, "MailReader@example.org", CONFIRM_SUBJECT))
    sub = sqlite_mail_app.store.subscriptions.get_by_email_key("mailreader@example.org")
    assert sub.user_id is not None and sub.period == "weekly"
    # Until the mailbox confirms, the account page only offers to mail the link.
    page = web.get("/mail/account")
    assert page.status_code == 200 and "E-mail me my preferences link" in page.text
    (confirm_url,) = set(links(confirm_mail.get_body(("plain",)).get_content(), "confirm"))
    confirm_page = web.get(confirm_url)
    web.post(confirm_url, data={"csrf_token": csrf_of(confirm_page.text)})
    r = web.get("/mail/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/mail/preferences/")
    assert "MailReader@example.org" in web.get(r.headers["location"]).text
    # Another account with no subscription of its own sees no one else's preferences.
    other = httpx.Client(base_url=sqlite_mail_app.url, timeout=10, follow_redirects=False)
    signup(other, "someoneelse", email="someone@example.org")
    page = other.get("/mail/account")
    assert page.status_code == 200 and "/mail/preferences/" not in page.text


def test_every_state_changing_mail_route_is_csrf_protected_or_token_authenticated(sqlite_mail_app):
    from paperboy.web.security import require_csrf

    def flat(routes):
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from flat(inner.routes) if inner is not None else [route]

    def calls(dependant):
        yield dependant.call
        for sub in dependant.dependencies:
            yield from calls(sub)

    # Exempt by design: RFC 8058 one-click (and the alert equivalent) are authenticated by the
    # signed token in the URL; the JSON API only accepts JSON, which no cross-site form can send.
    exempt = {"/mail/unsubscribe/{token}", "/mail/alerts/{token}/stop", "/api/v1/subscriptions"}
    mine = [r for r in flat(sqlite_mail_app.app.routes)
            if getattr(getattr(r, "endpoint", None), "__module__", "") == "paperboy.web.routes.mail"]
    changing = [r for r in mine if set(r.methods) - {"GET", "HEAD"}]
    assert len(changing) == 11  # + save a search (/search/alert) and confirm that alert
    for route in changing:
        assert "GET" not in route.methods, route.path
        if route.path not in exempt:
            assert require_csrf in set(calls(route.dependant)), route.path
