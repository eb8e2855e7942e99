"""Community fixtures: users with (cheap-to-create) accounts and stored papers."""

from __future__ import annotations

import itertools

import pytest

from paperboy.community.passwords import hash_password
from tests.builders import make_listing, make_paper

_names = itertools.count(1)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One real argon2id hash of PASSWORD, reused so tests do not pay argon2 per user."""
    return hash_password(PASSWORD)


@pytest.fixture
def make_user(store, password_hash):
    def make(username: str | None = None, is_admin: bool = False, on=None):
        target = on or store
        name = username or f"user{next(_names)}"
        return target.accounts.create_user(name, f"{name}@example.org", password_hash,
                                           is_admin=is_admin)
    return make


@pytest.fixture
def paper(store):
    p = make_paper(listing=make_listing(upvotes=7, comments=2))
    store.papers.upsert([p], source="hf")
    return p
