"""The digest's "For you" section, sent through the real SMTP test server: subscribers linked to
an account get their picks first (with why), others get none; the batch ranks every reader in
one rank_many call."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

import paperboy.recommend.service as service_module
from paperboy.jobs.for_you import digest_picks
from paperboy.mail.digest import send_digests
from paperboy.mail.service import MailService
from paperboy.storage import open_store
from tests.builders import make_listing, make_paper
from tests.mail.test_digest import confirmed

NOW = datetime(2026, 3, 11, 8, 0, tzinfo=timezone.utc)
YESTERDAY = date(2026, 3, 10)


@pytest.fixture
def mail_store(mail_settings):
    s = open_store(mail_settings)
    yield s
    s.close()


def _topic_papers(store):
    papers = []
    for day, listed in ((datetime(2026, 3, 2, 9), date(2026, 3, 3)),
                        (datetime(2026, 3, 9, 9), YESTERDAY)):
        for k in range(4):
            for topic, text in (("graph", "graph neural networks with message passing"),
                                ("optics", "optical lattice cold atoms experiment")):
                papers.append(make_paper(
                    title=f"{text} ({k})", abstract=f"We study {text}; variant {k}.",
                    categories=["cs.LG"] if topic == "graph" else ["physics.optics"],
                    published=day + timedelta(hours=k),
                    listing=make_listing(listed_on=listed, upvotes=40 if topic == "optics" else 1)))
    store.papers.upsert(papers, "hf")
    return papers


def test_for_you_section_first_and_only_for_accounts(mail_settings, mail_store, smtp_server,
                                                    monkeypatch):
    papers = _topic_papers(mail_store)
    old_graph = [p for p in papers if "graph" in p.title and p.listing.listed_on != YESTERDAY]
    new_graph = {p.title for p in papers if "graph" in p.title and p.listing.listed_on == YESTERDAY}
    uids = []
    for name in ("gwen", "hal", "ivy"):
        uid = mail_store.accounts.create_user(name, f"{name}@example.org", "x").id
        uids.append(uid)
        for p in old_graph[:3]:
            mail_store.signals.set_signal(uid, p.id, "more")
    service = MailService(mail_settings, mail_store)
    for name, uid in zip(("gwen", "hal", "ivy"), uids):
        confirmed(service, f"{name}@example.org", max_papers=4, user_id=uid)
    confirmed(service, "anon@example.org", max_papers=4)

    calls = []
    real = service_module.rank_many
    monkeypatch.setattr(service_module, "rank_many",
                        lambda models, *a, **k: calls.append(len(models)) or real(models, *a, **k))
    report = send_digests(mail_settings, mail_store, None, "daily", now=NOW,
                          personal=digest_picks(mail_store, mail_settings))
    assert report.sent == 4
    assert calls == [3]  # all three readers of the batch in one call

    [msg] = [m.message for m in smtp_server.handler.to("gwen@example.org")
             if "digest" in m.message["Subject"]]
    assert "4 for you" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    assert text.index("FOR YOU") < text.index("TRENDING")
    section = text[text.index("FOR YOU"):text.index("TRENDING")]
    for title in new_graph:
        assert title in section
    assert "which you liked" in section and old_graph[0].title.split(" (")[0] in section
    assert html.index(">For you</h2>") < html.index("Trending")
    assert "/for-you" in html
    # trending does not repeat the picks
    trending = text[text.index("TRENDING"):]
    assert not any(title in trending for title in new_graph)

    [anon] = [m.message for m in smtp_server.handler.to("anon@example.org")
              if "digest" in m.message["Subject"]]
    assert "FOR YOU" not in anon.get_body(("plain",)).get_content()
