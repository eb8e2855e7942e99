"""Accounts and community repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from paperboy.errors import NotFound
from paperboy.storage.accounts import AccountExists
from paperboy.storage.community import CollectionExists
from paperboy.storage.schema import upvotes
from tests.builders import make_listing, make_paper


def test_usernames_and_emails_are_unique_case_insensitively(store, make_user, password_hash):
    make_user("Alice")
    with pytest.raises(AccountExists) as err:
        store.accounts.create_user("alice", "other@example.org", password_hash)
    assert err.value.field == "username"
    with pytest.raises(AccountExists) as err:
        store.accounts.create_user("bob", "ALICE@example.org", password_hash)
    assert err.value.field == "email"
    assert store.accounts.get_by_login("ALICE").username == "Alice"
    assert store.accounts.get_by_login("alice@EXAMPLE.org").username == "Alice"


def test_sessions_store_only_digests_and_rotate(store, make_user):
    user = make_user()
    first = store.accounts.create_session(user.id)
    assert store.accounts.user_for_session(first).id == user.id
    second = store.accounts.create_session(user.id, replace=first)
    assert store.accounts.user_for_session(first) is None
    assert store.accounts.user_for_session(second).id == user.id
    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM user_sessions")]
    assert second not in ids and len(ids) == 1


def test_expired_session_is_refused(store, make_user):
    user = make_user()
    token = store.accounts.create_session(user.id, ttl=timedelta(seconds=-1))
    assert store.accounts.user_for_session(token) is None


def test_password_change_ends_other_sessions(store, make_user, password_hash):
    user = make_user()
    keep = store.accounts.create_session(user.id)
    other = store.accounts.create_session(user.id)
    store.accounts.set_password(user.id, password_hash, keep_session=keep)
    assert store.accounts.user_for_session(keep) is not None
    assert store.accounts.user_for_session(other) is None


def test_disabled_user_loses_sessions_and_tokens(store, make_user):
    user = make_user()
    session = store.accounts.create_session(user.id)
    token, _ = store.accounts.create_api_token(user.id, "script")
    store.accounts.set_disabled(user.id, True)
    assert store.accounts.user_for_session(session) is None
    assert store.accounts.user_for_api_token(token) is None


def test_api_tokens_hashed_and_revocable_by_owner_only(store, make_user):
    alice, bob = make_user(), make_user()
    token, row = store.accounts.create_api_token(alice.id, "laptop")
    assert token.startswith("pbt_") and row.prefix == token[:12]
    assert store.accounts.user_for_api_token(token).id == alice.id
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalar_one()
    assert stored != token and token not in stored
    assert store.accounts.revoke_api_token(bob.id, row.id) is False
    assert store.accounts.user_for_api_token(token) is not None
    assert store.accounts.revoke_api_token(alice.id, row.id) is True
    assert store.accounts.user_for_api_token(token) is None
    assert store.accounts.list_api_tokens(alice.id)[0].revoked_at is not None


def test_one_vote_per_user_per_paper_is_a_database_rule(store, make_user, paper):
    user = make_user()
    assert store.community.set_upvote(user.id, paper.id, on=True) is True
    assert store.community.set_upvote(user.id, paper.id, on=True) is True
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(insert(upvotes).values(user_id=user.id, paper_id=paper.id,
                                                created_at=datetime(2024, 1, 1)))
    counts = store.community.counts([paper.id])[paper.id]
    assert (counts.upvotes_imported, counts.upvotes_local, counts.upvotes) == (7, 1, 8)


def test_toggle_upvote(store, make_user, paper):
    user = make_user()
    assert store.community.set_upvote(user.id, paper.id) is True
    assert store.community.has_upvoted(user.id, [paper.id, "x"]) == {paper.id}
    assert store.community.set_upvote(user.id, paper.id) is False
    assert store.community.counts([paper.id])[paper.id].upvotes_local == 0
    assert store.community.upvote_rows(paper.id) == 0


def test_vote_on_missing_or_hidden_paper_is_not_found(store, make_user, paper):
    user = make_user()
    with pytest.raises(NotFound):
        store.community.set_upvote(user.id, "9999.99999")
    store.community.set_paper_hidden(paper.id, True)
    with pytest.raises(NotFound):
        store.community.set_upvote(user.id, paper.id)


def test_comments_count_edit_delete_hide(store, make_user, paper):
    alice, bob = make_user(), make_user()
    c1 = store.community.add_comment(alice.id, paper.id, "first")
    c2 = store.community.add_comment(bob.id, paper.id, "second")
    assert store.community.counts([paper.id])[paper.id].comments == 2 + 2
    assert store.community.edit_comment(c1, bob.id, "hijack") is False
    assert store.community.edit_comment(c1, alice.id, "first, edited") is True
    assert store.community.delete_comment(c1, bob.id) is False
    assert store.community.delete_comment(c1, alice.id) is True
    assert store.community.set_comment_hidden(c2, True) is True
    assert store.community.set_comment_hidden(c2, True) is False
    assert store.community.counts([paper.id])[paper.id].comments_local == 0
    listed = store.community.comments_for(paper.id)
    assert [(c.deleted, c.hidden, c.body) for c in listed] == [(True, False, ""), (False, True, "second")]
    store.community.set_comment_hidden(c2, False)
    assert store.community.counts([paper.id])[paper.id].comments_local == 1
    assert store.community.recount() == 1
    assert store.community.counts([paper.id])[paper.id].comments_local == 1


def test_collections_belong_to_their_owner(store, make_user, paper):
    alice, bob = make_user(), make_user()
    cid = store.community.create_collection(alice.id, "Reading", "to read", is_public=False)
    with pytest.raises(CollectionExists):
        store.community.create_collection(alice.id, "Reading")
    store.community.create_collection(bob.id, "Reading")  # names are per user
    assert store.community.add_to_collection(cid, bob.id, paper.id) is False
    assert store.community.add_to_collection(cid, alice.id, paper.id, "great") is True
    assert store.community.add_to_collection(cid, alice.id, paper.id, "really great") is True
    [item] = store.community.collection_items(cid)
    assert (item.paper.id, item.note) == (paper.id, "really great")
    coll = store.community.get_collection(cid)
    assert (coll.owner, coll.size, coll.is_public) == (alice.username, 1, False)
    assert store.community.collections_with(alice.id, paper.id) == {cid}
    assert store.community.collections_of(alice.id, public_only=True) == []
    assert store.community.remove_from_collection(cid, bob.id, paper.id) is False
    assert store.community.delete_collection(cid, bob.id) is False
    assert store.community.delete_collection(cid, alice.id) is True
    assert store.community.get_collection(cid) is None


def test_trending_ranks_by_points_and_age_within_window(store, make_user):
    """The feed's trending order (the site's only trending code path) on both databases."""
    from paperboy.storage.feeds import Period

    old = make_paper(listing=make_listing(listed_on=date(2024, 10, 20), upvotes=50, comments=0))
    fresh = make_paper(listing=make_listing(listed_on=date(2024, 10, 25), upvotes=10, comments=0))
    quiet = make_paper(listing=make_listing(listed_on=date(2024, 10, 25), upvotes=0, comments=0))
    outside = make_paper(listing=make_listing(listed_on=date(2024, 9, 1), upvotes=999))
    store.papers.upsert([old, fresh, quiet, outside], source="hf")
    now = datetime(2024, 10, 26, 0, 0)
    page = store.feeds.trending(days=7, now=now)
    assert page.total == 3  # the last 7 listing days only
    assert [i.id for i in page.items] == [fresh.id, old.id, quiet.id]
    for u in [make_user() for _ in range(12)]:
        store.community.set_upvote(u.id, quiet.id)
    page = store.feeds.trending(days=7, now=now)
    assert page.items[0].id == quiet.id
    assert (page.items[0].upvotes, page.items[0].extra["upvotes_local"]) == (12, 12)
    # one day: same age for all, so points decide; a comment counts half a vote
    c = make_user()
    store.community.add_comment(c.id, fresh.id, "nice")
    day = store.feeds.listed(Period.day(date(2024, 10, 25)), "trending", now=datetime(2030, 1, 1))
    assert [i.id for i in day.items] == [quiet.id, fresh.id]
    assert day.items[1].comments == 0 + 1
    # most upvoted counts local votes too (the week of Oct 21-27)
    top = store.feeds.listed(Period.week_of(date(2024, 10, 25)), "upvotes", now=now)
    assert [i.id for i in top.items] == [quiet.id, fresh.id]  # 12 local > 10 imported
