"""Saved-search alerts with the real SearchService (lexical index kept by the database):
only papers new since the last digest, and one search per distinct query (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from paperboy.mail.digest import DigestJob, send_digests
from paperboy.mail.service import MailService
from paperboy.storage import open_store
from tests.builders import make_listing, make_paper

NOW = datetime(2026, 3, 11, 8, 0, tzinfo=timezone.utc)
TODAY = date(2026, 3, 11)


class CountingSearcher:
    """The real searcher, counting the searches the digest job asks for."""

    def __init__(self, inner):
        self.inner = inner
        self.queries: list[str] = []

    def search(self, query, filters=None, limit=20, offset=0, mode="hybrid", explain=True):
        self.queries.append(query)
        # These tests store papers directly: index them as an import's listener would have
        # (a search itself never writes the index).
        self.inner.upkeep.catch_up()
        return self.inner.search(query, filters, limit, offset, mode, explain)


@pytest.fixture
def mail_store(mail_settings):
    s = open_store(mail_settings)
    yield s
    s.close()


@pytest.fixture
def searcher(mail_store, mail_settings):
    from paperboy.search.service import SearchService

    return CountingSearcher(SearchService(mail_store, mail_settings))


def confirmed(service: MailService, email: str, **prefs):
    msg = service.request_subscription(email, **prefs)
    token = re.search(r"/mail/confirm/(\S+)", msg.get_body(("plain",)).get_content()).group(1)
    return service.confirm(token)


def store_paper(store, day: date, **kw):
    paper = make_paper(published=datetime(day.year, day.month, day.day, 9), **kw)
    store.papers.upsert([paper], "arxiv")
    return paper


def alert_sections(message) -> dict[str, list[str]]:
    """{query: [titles]} from the plain-text part of a digest."""
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    sections = {}
    for block in re.split(r"\n(?=NEW FOR \")", text)[1:]:
        query = re.match(r'NEW FOR "(.+)"', block).group(1)
        sections[query] = re.findall(r"^\* (.+)$", block, re.M)
    return sections


def test_alerts_bring_only_papers_new_since_the_last_digest(mail_settings, mail_store, smtp_server,
                                                           searcher):
    service = MailService(mail_settings, mail_store)
    sub = confirmed(service, "alerts@example.org")
    token = service.manage_token(sub)
    yesterday = TODAY - timedelta(days=1)
    store_paper(mail_store, yesterday, title="Retrieval heads explain long-context factuality")
    service.add_alert(token, "retrieval heads")
    service.add_alert(token, "author:  Karpathy")
    new1 = store_paper(mail_store, yesterday, title="Sparse retrieval heads in small models")
    k1 = store_paper(mail_store, yesterday, title="Training tiny language models",
                     authors=["Andrej Karpathy"])
    store_paper(mail_store, yesterday, title="Diffusion for protein folding")

    first = send_digests(mail_settings, mail_store, searcher, "daily", now=NOW)
    assert first.sent == 1
    (digest1,) = [m.message for m in smtp_server.handler.to(sub.email)]
    assert alert_sections(digest1) == {"retrieval heads": [new1.title],
                                       "author: Karpathy": [k1.title]}
    text = digest1.get_body(("plain",)).get_content()
    assert len(re.findall(r"Stop this alert: http://testserver/mail/alerts/\S+/stop", text)) == 2

    # The next day: only what arrived since the first digest.
    new2 = store_paper(mail_store, TODAY, title="Retrieval heads under quantization")
    second = send_digests(mail_settings, mail_store, searcher, "daily", now=NOW + timedelta(days=1))
    assert second.sent == 1
    digest2 = [m.message for m in smtp_server.handler.to(sub.email)][-1]
    assert alert_sections(digest2) == {"retrieval heads": [new2.title]}
    # Nothing new at all on the third day: no mail.
    third = send_digests(mail_settings, mail_store, searcher, "daily", now=NOW + timedelta(days=2))
    assert (third.sent, third.empty) == (0, 1)


def test_stopped_alert_and_failed_delivery_keep_the_high_water_mark(mail_settings, mail_store,
                                                                   smtp_server, searcher):
    service = MailService(mail_settings, mail_store)
    sub = confirmed(service, "keep@example.org")
    token = service.manage_token(sub)
    saved = service.add_alert(token, "graph transformers")
    stopped = service.add_alert(token, "diffusion")
    service.stop_alert_by_id(token, stopped.id)
    p1 = store_paper(mail_store, TODAY - timedelta(days=1), title="Graph transformers at scale")
    store_paper(mail_store, TODAY - timedelta(days=1), title="Diffusion everywhere")
    smtp_server.handler.temp_failures = 10  # the first run fails for good (deferred)
    assert send_digests(mail_settings, mail_store, searcher, "daily", now=NOW).deferred == 1
    assert mail_store.subscriptions.get_saved_search(saved.id).high_water == saved.high_water
    smtp_server.handler.temp_failures = 0
    # A later run (the same day) still has the paper: the mark only moves on a sent digest.
    assert send_digests(mail_settings, mail_store, searcher, "daily", now=NOW).sent == 1
    (msg,) = [m.message for m in smtp_server.handler.to(sub.email)]
    assert alert_sections(msg) == {"graph transformers": [p1.title]}


def test_subscribers_sharing_a_query_share_one_search(mail_settings, mail_store, smtp_server, searcher):
    service = MailService(mail_settings, mail_store)
    yesterday = TODAY - timedelta(days=1)
    subs = []
    spellings = ["retrieval heads", "Retrieval  Heads", "RETRIEVAL HEADS "]
    for i in range(12):
        sub = confirmed(service, f"r{i}@example.org")
        service.add_alert(service.manage_token(sub), spellings[i % 3] if i < 9 else "state space models")
        subs.append(sub)
    rh = store_paper(mail_store, yesterday, title="Retrieval heads, revisited",
                     listing=make_listing(listed_on=yesterday))
    ssm = store_paper(mail_store, yesterday, title="State space models for audio")

    grouped = DigestJob(mail_settings, mail_store, searcher, "daily", now=NOW, batch_size=5)
    digests = {d.subscriber.id: d for d in grouped.digests()}
    assert len(searcher.queries) == 2  # one per distinct normalized query, for all batches
    naive_searcher = CountingSearcher(searcher.inner)
    naive = DigestJob(mail_settings, mail_store, naive_searcher, "daily", now=NOW,
                      group_searches=False)
    naive_digests = {d.subscriber.id: d for d in naive.digests()}
    assert len(naive_searcher.queries) == 12
    for sub in subs:
        got = [[p.id for p in a.papers] for a in digests[sub.id].alerts]
        assert got == [[p.id for p in a.papers] for a in naive_digests[sub.id].alerts]
        assert got == ([[rh.id]] if sub.id <= subs[8].id else [[ssm.id]])
        # A paper in an alert section is not repeated among the trending ones.
        trending = [p.id for p in digests[sub.id].trending]
        assert (rh.id in trending) == (sub.id > subs[8].id)
