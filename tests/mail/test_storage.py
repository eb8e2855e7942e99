"""The subscription repository on SQLite and PostgreSQL: subscribe rules, claims, bounces."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from paperboy.storage.subscriptions import SubscriptionRepository


def _subscribe(repo: SubscriptionRepository, email="ada@example.org", now=None, **kw):
    values = dict(period="daily", categories=["cs.LG"], max_papers=5)
    values.update(kw)
    return repo.subscribe(email, email.casefold(), now=now, **values)


def test_subscribe_states_and_rate_limit(store):
    repo = store.subscriptions
    t0 = datetime(2026, 1, 1, 8, 0)
    first = _subscribe(repo, now=t0)
    assert first.mail == "confirm" and first.subscriber.status == "pending"
    # Asking again at once: nothing is mailed (rate limit), same row.
    again = _subscribe(repo, now=t0 + timedelta(minutes=1))
    assert again.mail is None and again.subscriber.id == first.subscriber.id
    # Later: the confirmation link again.
    later = _subscribe(repo, now=t0 + timedelta(hours=1))
    assert later.mail == "confirm"
    sub = repo.confirm(first.subscriber.id, first.subscriber.token_nonce)
    assert sub.status == "active" and sub.confirmed_at is not None
    # An active address gets a notice, and a stranger cannot change its preferences.
    known = _subscribe(repo, now=t0 + timedelta(hours=2), period="weekly", categories=["math.AG"])
    assert known.mail == "notice"
    assert known.subscriber.period == "daily" and known.subscriber.categories == ["cs.LG"]
    # Unsubscribed: back to pending with the new preferences, and a new confirmation.
    repo.unsubscribe(sub.id, sub.token_nonce)
    back = _subscribe(repo, now=t0 + timedelta(hours=3), period="weekly")
    assert back.mail == "confirm" and back.subscriber.status == "pending"
    assert back.subscriber.period == "weekly"
    assert repo.counts() == {"pending": 1}


def test_confirm_needs_the_right_nonce_and_never_revives(store):
    repo = store.subscriptions
    sub = _subscribe(repo).subscriber
    assert repo.confirm(sub.id, "0" * 16) is None
    assert repo.get(sub.id).status == "pending"
    repo.unsubscribe(sub.id, sub.token_nonce)
    # An old confirmation link used after unsubscribing does not subscribe again.
    assert repo.confirm(sub.id, sub.token_nonce).status == "unsubscribed"


def test_claim_is_exclusive_and_deferred_rows_are_retried(store):
    repo = store.subscriptions
    sub = _subscribe(repo).subscriber
    first = repo.claim(sub.id, "daily:2026-01-02", "job-a", "<a@x>")
    assert first is not None
    assert repo.claim(sub.id, "daily:2026-01-02", "job-b", "<b@x>") is None
    repo.mark_deferred(first, "451 try later")
    retry = repo.claim(sub.id, "daily:2026-01-02", "job-b", "<b@x>")
    assert retry is not None and retry.attempts == 2
    repo.mark_sent(retry, 3, {})
    rows = repo.deliveries("daily:2026-01-02")
    assert [(r["status"], r["job_id"], r["attempts"]) for r in rows] == [("sent", "job-b", 2)]
    # Another period is a new row.
    assert repo.claim(sub.id, "daily:2026-01-03", "job-a", "<c@x>") is not None


def test_concurrent_claims_have_one_winner(store):
    repo = store.subscriptions
    sub = _subscribe(repo).subscriber
    winners, barrier = [], threading.Barrier(8)

    def worker(n):
        barrier.wait()
        if repo.claim(sub.id, "weekly:2026-W02", f"job-{n}", f"<{n}@x>"):
            winners.append(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert len(repo.deliveries("weekly:2026-W02")) == 1


def test_bounces_suspend_after_the_limit_and_success_resets(store):
    repo = store.subscriptions
    sub = _subscribe(repo).subscriber
    repo.confirm(sub.id, sub.token_nonce)
    c1 = repo.claim(sub.id, "daily:1", "j", "<1@x>")
    assert repo.mark_bounced(c1, "550 no such user", bounce_limit=2) is False
    c2 = repo.claim(sub.id, "daily:2", "j", "<2@x>")
    repo.mark_sent(c2, 1, {})
    assert repo.get(sub.id).bounce_count == 0
    c3 = repo.claim(sub.id, "daily:3", "j", "<3@x>")
    assert repo.mark_bounced(c3, "550 no such user", bounce_limit=2) is False
    c4 = repo.claim(sub.id, "daily:4", "j", "<4@x>")
    assert repo.mark_bounced(c4, "550 no such user", bounce_limit=2) is True
    assert repo.get(sub.id).status == "suspended"
    assert repo.due_subscribers("daily", "daily:5") == []


def test_due_subscribers_skip_finished_periods(store):
    repo = store.subscriptions
    subs = []
    for i in range(3):
        s = _subscribe(repo, email=f"u{i}@example.org").subscriber
        repo.confirm(s.id, s.token_nonce)
        subs.append(s)
    weekly = _subscribe(repo, email="w@example.org", period="weekly").subscriber
    repo.confirm(weekly.id, weekly.token_nonce)
    key = "daily:2026-01-05"
    repo.claim(subs[0].id, key, "j", "<x>")  # sending: ambiguous, never resent
    deferred = repo.claim(subs[1].id, key, "j", "<y>")
    repo.mark_deferred(deferred, "timeout")  # deferred: due again
    due = [s.id for s in repo.due_subscribers("daily", key)]
    assert due == [subs[1].id, subs[2].id]
    assert [s.id for s in repo.due_subscribers("daily", key, after_id=subs[1].id)] == [subs[2].id]
    assert [s.id for s in repo.due_subscribers("weekly", "weekly:2026-W02")] == [weekly.id]


def test_saved_searches_and_high_water(store):
    repo = store.subscriptions
    sub = _subscribe(repo).subscriber
    t0 = datetime(2026, 1, 1)
    a = repo.add_saved_search(sub.id, "Retrieval heads", "retrieval heads", now=t0)
    b = repo.add_saved_search(sub.id, "author: Karpathy", "author:karpathy", now=t0)
    same = repo.add_saved_search(sub.id, "retrieval  HEADS", "retrieval heads", now=t0)
    assert same.id == a.id
    assert [s.query for s in repo.saved_searches(sub.id)] == ["Retrieval heads", "author: Karpathy"]
    assert repo.stop_saved_search(sub.id, b.id).active is False
    assert repo.stop_saved_search(sub.id + 1, a.id) is None  # not theirs
    assert [s.id for s in repo.saved_searches(sub.id)] == [a.id]
    claim = repo.claim(sub.id, "daily:x", "j", "<m>")
    mark = t0 + timedelta(days=1)
    repo.mark_sent(claim, 2, {a.id: mark})
    assert repo.get_saved_search(a.id).high_water == mark
    # Re-adding a stopped alert starts it fresh.
    again = repo.add_saved_search(sub.id, "author: Karpathy", "author:karpathy", now=mark)
    assert again.active and again.high_water == mark
