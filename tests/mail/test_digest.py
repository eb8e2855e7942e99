"""The digest job against a real SMTP server on loopback: content, headers, exactly once,
crashes, concurrent jobs, bounces and retries (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.builders import make_listing, make_paper
from paperboy.mail.digest import DigestJob, period_key, send_digests
from paperboy.mail.service import MailService
from paperboy.storage import open_store

NOW = datetime(2026, 3, 11, 8, 0, tzinfo=timezone.utc)  # a Wednesday
TODAY = date(2026, 3, 11)


class SimulatedCrash(BaseException):
    """Raised by a hook: not an Exception, so nothing in the job catches it (like SIGKILL)."""


def confirmed(service: MailService, email: str, **prefs):
    msg = service.request_subscription(email, **prefs)
    assert service.deliver(msg)
    token = re.search(r"/mail/confirm/(\S+)", msg.get_body(("plain",)).get_content()).group(1)
    return service.confirm(token)


def list_papers(store, day: date, n: int, **kw) -> list:
    papers = [make_paper(listing=make_listing(listed_on=day, upvotes=10 + i), **kw) for i in range(n)]
    store.papers.upsert(papers, "hf")
    return papers


@pytest.fixture
def mail_store(mail_settings):
    s = open_store(mail_settings)
    yield s
    s.close()


def test_digest_message_parts_headers_and_content(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    sub = confirmed(service, "reader@example.org", categories=["cs.CL"], max_papers=3)
    list_papers(mail_store, TODAY - timedelta(days=1), 4, categories=["cs.CL"])
    other = list_papers(mail_store, TODAY - timedelta(days=1), 1, categories=["math.AG"],
                        title="Something <b>else</b> & more")
    list_papers(mail_store, TODAY - timedelta(days=3), 2, categories=["cs.CL"])  # outside the day

    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert (report.sent, report.composed) == (1, 1)
    confirmation, received = smtp_server.handler.to("reader@example.org")
    assert confirmation.message["Subject"] == "Confirm your Paperboy subscription"
    msg = received.message
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    assert msg["From"] == mail_settings.mail_from
    assert msg["To"] == "reader@example.org"
    assert re.fullmatch(r"<digest\.[0-9a-f]{24}@paperboy\.test>", msg["Message-ID"])
    assert msg["Date"].datetime.tzinfo is not None
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    urls = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert urls[0].startswith("http://testserver/mail/unsubscribe/")
    assert urls[1].startswith("mailto:digest@paperboy.test?subject=unsubscribe%20")
    # Three papers (max_papers) of the chosen category, best trending first, both parts.
    titles = re.findall(r"^\* (.+)$", text, re.M)
    assert len(titles) == 3
    for title in titles:
        assert title in html
    assert other[0].title not in text and "&lt;b&gt;" not in html
    assert text.count("http://testserver/papers/") == 3
    assert 'style="' in html and "<style" not in html  # inline CSS only
    assert "http://testserver/mail/preferences/" in text and "http://testserver/mail/preferences/" in html
    # Recorded once, with the Message-ID it was sent with.
    (row,) = mail_store.subscriptions.deliveries(period_key("daily", TODAY))
    assert (row["status"], row["subscriber_id"], row["message_id"]) == ("sent", sub.id, msg["Message-ID"])
    # A second run the same day sends nothing.
    again = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert again.sent == 0 and len(smtp_server.handler.messages) == 2  # confirmation + digest


def test_unconfirmed_and_unsubscribed_get_nothing(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    service.deliver(service.request_subscription("pending@example.org"))
    gone = confirmed(service, "gone@example.org")
    service.unsubscribe(service.manage_token(gone))
    confirmed(service, "weekly@example.org", period="weekly")
    list_papers(mail_store, TODAY - timedelta(days=1), 2)
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert report.composed == 0 and report.sent == 0
    # Only the confirmation mail reached the pending address; nothing else went out.
    assert [m.message["Subject"] for m in smtp_server.handler.to("pending@example.org")] == [
        "Confirm your Paperboy subscription"]
    assert [m.message["Subject"] for m in smtp_server.handler.to("gone@example.org")] == [
        "Confirm your Paperboy subscription"]


def _subscribers(service, n):
    return [confirmed(service, f"user{i}@example.org") for i in range(n)]


@pytest.mark.parametrize("crash_point", ["before_claim", "after_send"])
def test_crash_midway_then_rerun_sends_each_exactly_once(mail_settings, mail_store, smtp_server,
                                                         crash_point):
    service = MailService(mail_settings, mail_store)
    subs = _subscribers(service, 6)
    list_papers(mail_store, TODAY - timedelta(days=1), 3)
    seen = []

    def crash_on_fourth(digest):
        seen.append(digest.subscriber.id)
        if len(seen) == 4:
            raise SimulatedCrash()

    with pytest.raises(SimulatedCrash):
        DigestJob(mail_settings, mail_store, None, "daily", now=NOW,
                  hooks={crash_point: crash_on_fourth}).run()
    first_run = len(smtp_server.handler.messages)
    rerun = DigestJob(mail_settings, mail_store, None, "daily", now=NOW).run()
    digests = Counter(a for m in smtp_server.handler.messages
                      if m.message["Subject"].startswith("Paperboy daily digest") for a in m.rcpt_tos)
    assert digests == Counter({s.email: 1 for s in subs})
    assert rerun.sent == (3 if crash_point == "before_claim" else 2)
    assert first_run > 0


def test_parallel_connections_crash_and_concurrent_jobs_still_once(mail_settings, mail_store,
                                                                  smtp_server):
    """Four SMTP connections per job, a crash after 10 sends, then two jobs at once."""
    from paperboy.settings import load_settings

    settings = load_settings({**{f: getattr(mail_settings, f) for f in (
        "data_dir", "database_url", "smtp_host", "smtp_port", "smtp_security", "base_url",
        "mail_from", "smtp_retry_delay")}, "smtp_connections": 4}, environ={})
    service = MailService(settings, mail_store)
    subs = _subscribers(service, 30)
    list_papers(mail_store, TODAY - timedelta(days=1), 3)
    sent, lock = [], threading.Lock()

    def crash_after_ten(digest):
        with lock:
            sent.append(digest.subscriber.id)
            if len(sent) == 10:
                raise SimulatedCrash()

    with pytest.raises(SimulatedCrash):
        DigestJob(settings, mail_store, None, "daily", now=NOW, batch_size=7,
                  hooks={"after_send": crash_after_ten}).run()
    stores = [open_store(settings) for _ in range(2)]
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(
        DigestJob(settings, s, None, "daily", now=NOW, batch_size=7).run())) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    digests = Counter(a for m in smtp_server.handler.messages
                      if "digest" in m.message["Subject"] for a in m.rcpt_tos)
    assert digests == Counter({s.email: 1 for s in subs})
    statuses = Counter(r["status"] for r in mail_store.subscriptions.deliveries())
    # after_send crashes leave at most one digest per connection recorded as "sending".
    assert statuses["sent"] + statuses["sending"] == 30 and statuses["sending"] <= 4


def test_crash_between_claim_and_send_is_at_most_once(mail_settings, mail_store, smtp_server):
    """The documented choice: a digest claimed but not known to be sent is not resent."""
    service = MailService(mail_settings, mail_store)
    subs = _subscribers(service, 3)
    list_papers(mail_store, TODAY - timedelta(days=1), 2)

    def crash(digest):
        if digest.subscriber.id == subs[1].id:
            raise SimulatedCrash()

    with pytest.raises(SimulatedCrash):
        DigestJob(mail_settings, mail_store, None, "daily", now=NOW, hooks={"after_claim": crash}).run()
    send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    digests = Counter(a for m in smtp_server.handler.messages
                      if "digest" in m.message["Subject"] for a in m.rcpt_tos)
    assert digests == Counter({subs[0].email: 1, subs[2].email: 1})
    rows = {r["subscriber_id"]: r["status"] for r in mail_store.subscriptions.deliveries()}
    assert rows == {subs[0].id: "sent", subs[1].id: "sending", subs[2].id: "sent"}
    assert [r["subscriber_id"] for r in mail_store.subscriptions.stale_sending(
        datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=1))] == [subs[1].id]


def test_two_jobs_at_once_send_each_digest_once(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    subs = _subscribers(service, 12)
    list_papers(mail_store, TODAY - timedelta(days=1), 3)
    stores = [open_store(mail_settings) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run(store):
        try:
            job = DigestJob(mail_settings, store, None, "daily", now=NOW, batch_size=4)
            barrier.wait()
            reports.append(job.run())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert not errors
    digests = Counter(a for m in smtp_server.handler.messages
                      if "digest" in m.message["Subject"] for a in m.rcpt_tos)
    assert digests == Counter({s.email: 1 for s in subs})
    assert sum(r.sent for r in reports) == 12
    assert sum(r.sent + r.taken for r in reports) == sum(r.composed for r in reports)


def test_bounces_suspend_and_temporary_failures_are_retried(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    bad = confirmed(service, "nobody@example.org")
    good = confirmed(service, "someone@example.org")
    smtp_server.handler.refuse["nobody@example.org"] = "550 5.1.1 no such user"
    for d in range(0, 6):
        list_papers(mail_store, TODAY - timedelta(days=d), 1)
    limit = mail_settings.mail_bounce_limit  # 3
    for day in range(limit):
        report = send_digests(mail_settings, mail_store, None, "daily", now=NOW - timedelta(days=day))
        assert report.bounced == 1 and report.sent == 1
    assert mail_store.subscriptions.get(bad.id).status == "suspended"
    assert report.suspended == 1
    # A temporary failure (451 on DATA) is retried within the run and the digest goes out.
    smtp_server.handler.temp_failures = 1
    before = len(smtp_server.handler.to(good.email))
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW + timedelta(days=1))
    assert report.sent == 1 and report.composed == 1  # the suspended address is not tried
    assert len(smtp_server.handler.to(good.email)) == before + 1
    bounced = [r for r in mail_store.subscriptions.deliveries(subscriber_id=bad.id)]
    assert {r["status"] for r in bounced} == {"bounced"} and "550" in bounced[0]["error"]


def test_persistent_temporary_failure_defers_to_the_next_run(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    sub = confirmed(service, "later@example.org")
    list_papers(mail_store, TODAY - timedelta(days=1), 1)
    smtp_server.handler.temp_failures = 10  # more than the retries
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert report.deferred == 1 and report.sent == 0
    smtp_server.handler.temp_failures = 0
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert report.sent == 1
    (row,) = mail_store.subscriptions.deliveries(subscriber_id=sub.id)
    assert row["status"] == "sent" and row["attempts"] == 2
    assert len([m for m in smtp_server.handler.to(sub.email) if "digest" in m.message["Subject"]]) == 1


def test_nothing_new_sends_nothing(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    confirmed(service, "quiet@example.org")
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert (report.empty, report.sent) == (1, 0)
    assert [m.message["Subject"] for m in smtp_server.handler.to("quiet@example.org")] == [
        "Confirm your Paperboy subscription"]


def test_outbox_when_no_smtp_is_configured(sqlite_settings):
    store = open_store(sqlite_settings)
    try:
        service = MailService(sqlite_settings, store)
        msg = service.request_subscription("Box@Example.org")
        assert service.deliver(msg)
        files = sorted((sqlite_settings.data_dir / "outbox").glob("*.eml"))
        assert len(files) == 1
        import email
        from email.policy import default

        parsed = email.message_from_bytes(files[0].read_bytes(), policy=default)
        assert parsed["To"] == "Box@example.org"
        assert "/mail/confirm/" in parsed.get_body(("plain",)).get_content()
        assert not list((sqlite_settings.data_dir / "outbox").glob(".*.tmp"))
    finally:
        store.close()


def test_scheduler_sends_from_the_digest_hour_in_the_configured_timezone(mail_settings, mail_store,
                                                                        smtp_server):
    from paperboy.mail.digest import scheduled_run
    from paperboy.settings import load_settings
    from paperboy.jobs.scheduler import JOBS

    assert "digest" in [job.name for job in JOBS]
    values = {k: getattr(mail_settings, k) for k in ("data_dir", "database_url", "smtp_host",
                                                     "smtp_port", "smtp_security", "base_url")}
    # 08:00 UTC is 17:00 in Tokyo (Wednesday); digests go out from 18:00 local, weekly on Wednesdays.
    settings = load_settings(dict(values, timezone="Asia/Tokyo", digest_hour=18,
                                  digest_weekday="wed"), environ={})
    service = MailService(settings, mail_store)
    daily = confirmed(service, "d@example.org")
    weekly = confirmed(service, "w@example.org", period="weekly")
    list_papers(mail_store, TODAY - timedelta(days=1), 2)
    assert scheduled_run(settings, mail_store, None, now=NOW) == []
    reports = scheduled_run(settings, mail_store, None, now=NOW + timedelta(hours=1))
    assert [(r.period_key, r.sent) for r in reports] == [("daily:2026-03-11", 1), ("weekly:2026-W11", 1)]
    # Later checks the same day find nothing due and send nothing.
    assert scheduled_run(settings, mail_store, None, now=NOW + timedelta(hours=3)) == []
    assert len(smtp_server.handler.to(daily.email)) == 2 and len(smtp_server.handler.to(weekly.email)) == 2
    off = load_settings(dict(values, digest_hour=-1), environ={})
    assert scheduled_run(off, mail_store, None, now=NOW + timedelta(days=1)) == []


def test_digest_html_typesets_tex_and_the_text_part_keeps_it(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    confirmed(service, "math@example.org", categories=["cs.CL"], max_papers=3)
    list_papers(mail_store, TODAY - timedelta(days=1), 1, categories=["cs.CL"],
                title="Sorting in $O(n \\log n)$ <i>time</i>",
                abstract="We bound $\\sum_i x_i^2$ and keep $\\broken{$ as written.")
    assert send_digests(mail_settings, mail_store, None, "daily", now=NOW).sent == 1
    msg = smtp_server.handler.to("math@example.org")[-1].message
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert '<math display="inline"><mrow><mi>O</mi>' in html and "<msubsup>" in html
    assert '<span class="tex">$\\broken{$</span>' in html and "&lt;i&gt;time&lt;/i&gt;" in html
    assert "Sorting in $O(n \\log n)$ <i>time</i>" in text and "<math" not in text
