"""Reader signals round-trip on SQLite and PostgreSQL: more/less, library, follows, rules,
profiles (upvotes and collections count as positives), cached models, feed tokens, export and
delete; and one reader never sees another's."""

from __future__ import annotations

from datetime import datetime

import pytest

from paperboy.errors import NotFound
from paperboy.storage.signals import LimitReached, MAX_RULES
from tests.builders import make_paper


@pytest.fixture
def readers(store):
    papers = [make_paper(id=f"2411.{i:05d}", published=datetime(2024, 11, 1 + i % 3, 9))
              for i in range(12)]
    store.papers.upsert(papers, source="arxiv")
    alice = store.accounts.create_user("alice", "alice@example.org", "x")
    bob = store.accounts.create_user("bob", "bob@example.org", "x")
    return store, alice.id, bob.id, [p.id for p in papers]


def test_signals_library_follows_rules_round_trip(readers):
    store, alice, bob, ids = readers
    sig = store.signals
    assert sig.set_signal(alice, ids[0], "more") == "more"
    assert sig.set_signal(alice, ids[1], "less") == "less"
    assert sig.set_signal(alice, ids[1], "more") == "more"   # changes, never two rows
    assert sig.set_signal(alice, ids[1], None) is None        # cleared
    assert sig.signals_for(alice, ids[:3]) == {ids[0]: "more"}
    assert sig.signals_for(bob, ids[:3]) == {}
    with pytest.raises(NotFound):
        sig.set_signal(alice, "2411.99999", "more")

    assert sig.add_to_library(alice, [(ids[2], "smith2024"), (ids[3], "doe2023")]) == 2
    assert sig.add_to_library(alice, [(ids[2], "smith2024")]) == 0  # idempotent
    assert {row[0] for row in sig.library(alice)} == {ids[2], ids[3]}
    assert sig.library(bob) == []

    f = sig.follow(alice, "author", "José  García")
    assert sig.follow(alice, "author", "jose garcia").id == f.id  # folded: the same follow
    sig.follow(alice, "category", "cs.CL")
    assert [(x.kind, x.value) for x in sig.follows(alice)] == [
        ("author", "José García"), ("category", "cs.CL")]
    assert not sig.unfollow(bob, f.id)  # not bob's
    assert sig.unfollow(alice, f.id)

    r = sig.add_rule(alice, "exclude", "survey")
    assert sig.add_rule(alice, "exclude", "survey").id == r.id
    sig.add_rule(alice, "include", "graph neural author:kipf")
    assert [(x.action, x.query) for x in sig.rules(alice)] == [
        ("exclude", "survey"), ("include", "graph neural author:kipf")]
    assert not sig.remove_rule(bob, r.id)
    assert sig.remove_rule(alice, r.id)


def test_profile_counts_upvotes_collections_and_less_wins(readers):
    store, alice, bob, ids = readers
    store.community.set_upvote(alice, ids[4], on=True)
    coll = store.community.create_collection(alice, "reading")
    store.community.add_to_collection(coll, alice, ids[5])
    store.signals.set_signal(alice, ids[6], "more")
    store.signals.add_to_library(alice, [(ids[7], "x")])
    store.community.set_upvote(alice, ids[8], on=True)
    store.signals.set_signal(alice, ids[8], "less")  # an upvoted paper marked "less": negative
    store.community.set_upvote(bob, ids[9], on=True)

    prof = store.signals.profile(alice)
    assert prof.positives == sorted([ids[4], ids[5], ids[6], ids[7]])
    assert prof.negatives == [ids[8]]
    before = prof.version
    store.signals.set_signal(alice, ids[0], "more")
    assert store.signals.profile(alice).version != before
    store.signals.set_signal(alice, ids[0], None)
    assert store.signals.profile(alice).version == before
    both = store.signals.profiles([alice, bob])
    assert both[bob].positives == [ids[9]]

    sample = store.signals.same_day_sample(prof.positives, 5, seed=before)
    assert sample and not set(sample) & set(prof.positives)
    assert sample == store.signals.same_day_sample(prof.positives, 5, seed=before)

    texts = store.signals.texts([ids[4], "nope", ids[5]])
    assert [t.id for t in texts] == [ids[4], ids[5]] and texts[0].title


def test_models_vocabulary_and_feed_tokens(readers):
    store, alice, bob, ids = readers
    sig = store.signals
    assert sig.cached_model(alice) is None
    sig.put_model(alice, "v1", b"\x00model")
    sig.put_model(alice, "v2", b"\x01model")
    assert sig.cached_model(alice) == ("v2", b"\x01model")
    first = sig.put_vocabulary(b"vocab-1", 10)
    second = sig.put_vocabulary(b"vocab-2", 20)
    assert second > first and sig.vocabulary() == (second, 20, b"vocab-2")

    token = sig.new_feed_token(alice)
    assert sig.user_for_feed_token(token) == alice
    assert sig.user_for_feed_token(token + "x") is None
    newer = sig.new_feed_token(alice)
    assert sig.user_for_feed_token(token) is None and sig.user_for_feed_token(newer) == alice
    assert sig.revoke_feed_token(alice)
    assert sig.user_for_feed_token(newer) is None


def test_export_and_delete_all_touch_only_the_reader(readers):
    store, alice, bob, ids = readers
    sig = store.signals
    for uid in (alice, bob):
        sig.set_signal(uid, ids[0], "more")
        sig.follow(uid, "category", "cs.LG")
        sig.add_rule(uid, "exclude", "survey")
        sig.add_to_library(uid, [(ids[1], "entry")])
        sig.new_feed_token(uid)
    out = sig.export(alice)
    assert out["signals"][0]["paper_id"] == ids[0] and out["follows"][0]["value"] == "cs.LG"
    assert out["rules"][0]["query"] == "survey" and out["library"][0]["entry"] == "entry"
    assert sig.delete_all(alice) >= 5
    assert sig.export(alice)["signals"] == [] and sig.follows(alice) == []
    assert len(sig.export(bob)["signals"]) == 1 and sig.follows(bob)


def test_rule_limit(sqlite_store):
    uid = sqlite_store.accounts.create_user("carol", "carol@example.org", "x").id
    for i in range(MAX_RULES):
        sqlite_store.signals.add_rule(uid, "include", f"word{i}")
    with pytest.raises(LimitReached):
        sqlite_store.signals.add_rule(uid, "include", "one more")
