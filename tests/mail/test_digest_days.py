"""The daily digest's "Trending yesterday" holds yesterday's papers, exactly: the first and last
moments of the local day in, the moments either side out (SQLite and PostgreSQL, UTC and a zone
west of it)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from paperboy.mail.digest import send_digests
from paperboy.mail.service import MailService
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper
from tests.mail.test_digest import confirmed

YESTERDAY = date(2026, 12, 2)


def _midnight(day: date, tz: str) -> datetime:
    return (datetime.combine(day, time(), ZoneInfo(tz)).astimezone(timezone.utc)
            .replace(tzinfo=None))


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_trending_yesterday_is_yesterday_to_the_microsecond(mail_settings, smtp_server, tz):
    keep = ("data_dir", "database_url", "smtp_host", "smtp_port", "smtp_security",
            "smtp_retries", "smtp_connections", "smtp_retry_delay", "base_url", "mail_from")
    settings = load_settings({**{k: getattr(mail_settings, k) for k in keep}, "timezone": tz},
                             environ={})
    store = open_store(settings)
    try:
        start, end = _midnight(YESTERDAY, tz), _midnight(YESTERDAY + timedelta(days=1), tz)
        tick = timedelta(microseconds=1)
        inside = [make_paper(title="Yesterday at its first moment", published=start),
                  make_paper(title="Yesterday at its last moment", published=end - tick)]
        outside = [make_paper(title="Today at midnight", published=end),
                   make_paper(title="The day before yesterday, late", published=start - tick)]
        store.papers.upsert(inside + outside, source="arxiv")
        service = MailService(settings, store)
        confirmed(service, "reader@example.org", max_papers=10)
        now = datetime.combine(YESTERDAY + timedelta(days=1), time(12), ZoneInfo(tz))
        report = send_digests(settings, store, None, "daily", now=now)
        assert report.sent == 1
        digest = smtp_server.handler.to("reader@example.org")[-1].message
        text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")
        section = text.split("TRENDING YESTERDAY", 1)[1]
        titles = set(re.findall(r"^\* (.+)$", section, re.M))
        assert titles == {p.title for p in inside}
        assert digest["Subject"].endswith("Dec 2, 2026: 2 trending papers")
    finally:
        store.close()


def test_a_category_choice_says_how_many_papers_it_could_not_match(mail_settings, smtp_server):
    from tests.builders import make_listing

    store = open_store(mail_settings)
    try:
        listing = dict(listed_on=YESTERDAY, upvotes=5)
        store.papers.upsert([
            make_paper(title="A cs.CL paper", categories=["cs.CL"],
                       listing=make_listing(**listing)),
            make_paper(title="A paper waiting for its categories", categories=[],
                       primary_category=None, listing=make_listing(**listing)),
        ], source="hf")
        service = MailService(mail_settings, store)
        confirmed(service, "reader@example.org", categories=["cs.CL"])
        now = datetime.combine(YESTERDAY + timedelta(days=1), time(12), timezone.utc)
        assert send_digests(mail_settings, store, None, "daily", now=now).sent == 1
        digest = smtp_server.handler.to("reader@example.org")[-1].message
        text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")
        html = digest.get_body(("html",)).get_content()
        assert "A cs.CL paper" in text and "waiting for its categories" not in text
        assert "1 more trending paper of this period has no category yet" in text
        assert "1 more trending paper of this period has no category yet" in html
    finally:
        store.close()
