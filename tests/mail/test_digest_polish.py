"""Digest polish: the plain-text part shows what the HTML part shows (categories, upvotes), and
an empty period sends nothing and `digest status` says why (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

from paperboy.mail.digest import local_today, send_digests
from paperboy.mail.service import MailService
from paperboy.storage import open_store
from tests.builders import make_listing, make_paper
from tests.mail.test_cli import run
from tests.mail.test_digest import NOW, TODAY, confirmed, mail_store  # noqa: F401 (fixture)


def test_plain_text_shows_upvotes_like_the_html(mail_settings, mail_store, smtp_server):
    service = MailService(mail_settings, mail_store)
    confirmed(service, "reader@example.org")
    mail_store.papers.upsert([
        make_paper(title="Twelve votes", categories=["cs.CL", "cs.LG"],
                   listing=make_listing(listed_on=TODAY - timedelta(days=1), upvotes=12)),
        make_paper(title="One vote", categories=["cs.CV"],
                   listing=make_listing(listed_on=TODAY - timedelta(days=1), upvotes=1)),
    ], "hf")
    assert send_digests(mail_settings, mail_store, None, "daily", now=NOW).sent == 1
    msg = smtp_server.handler.to("reader@example.org")[-1].message
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    assert "cs.CL, cs.LG · 12 upvotes" in text and "cs.CV · 1 upvote\n" in text
    assert "12 upvotes" in html and "1 upvote<" in html.replace("</div>", "<")


def test_an_empty_period_sends_nothing_and_status_says_why(mail_settings, mail_store,
                                                            smtp_server):
    service = MailService(mail_settings, mail_store)
    confirmed(service, "all@example.org")
    picky = confirmed(service, "picky@example.org", categories=["math.AG"])
    # the subject of an empty digest (as a preview shows it) does not end in ": "
    from paperboy.mail.digest import DigestJob

    job = DigestJob(mail_settings, mail_store, None, "daily", now=NOW)
    (empty,) = job.composer.compose([picky])
    subject = job.builder.digest_subject(empty)
    assert subject.endswith(": nothing new") and not subject.endswith(": ")
    report = send_digests(mail_settings, mail_store, None, "daily")  # today: what status shows
    assert (report.sent, report.empty) == (0, 2)
    for address in ("all@example.org", "picky@example.org"):  # only the confirmations
        assert [m.message["Subject"] for m in smtp_server.handler.to(address)] == [
            "Confirm your Paperboy subscription"]
    status = run(mail_settings, "digest", "status")
    assert status.returncode == 0, status.stderr
    yesterday = (local_today(mail_settings) - timedelta(days=1)).isoformat()
    assert re.search(rf"not sent to 2 \(nothing to send\): no papers listed on {yesterday}",
                     status.stdout), status.stdout


def test_status_names_the_categories_that_matched_nothing(mail_settings, mail_store,
                                                          smtp_server):
    service = MailService(mail_settings, mail_store)
    confirmed(service, "picky@example.org", categories=["math.AG"])
    mail_store.papers.upsert([make_paper(categories=["cs.CL"], listing=make_listing(
        listed_on=TODAY - timedelta(days=1)))], "hf")
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW)
    assert (report.sent, report.empty) == (0, 1)
    (reason, n), = mail_store.subscriptions.skip_reasons(f"daily:{TODAY.isoformat()}")
    assert n == 1 and reason.startswith(
        f"none of the 1 papers of {(TODAY - timedelta(days=1)).isoformat()} is in math.AG")
