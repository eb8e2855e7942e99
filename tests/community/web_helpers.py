"""Helpers for the community web tests: sign up / sign in through the real forms, CSRF tokens
read from the page, and an app on either backend (SQLite or PostgreSQL)."""

from __future__ import annotations

import re

import pytest

PASSWORD = "correct horse battery staple"
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def page_token(client, path: str = "/signin") -> str:
    """The CSRF token a page gives this browser (from its <meta> tag)."""
    html = client.get(path).text
    return _META.search(html).group(1)


def signup(client, username: str, password: str = PASSWORD, email: str | None = None):
    token = page_token(client, "/signup")
    return client.post("/signup", data={"username": username, "email": email or f"{username}@example.org",
                                        "password": password, "csrf_token": token},
                       follow_redirects=False)


def signin(client, login: str, password: str = PASSWORD, next: str = "/"):
    token = page_token(client, "/signin")
    return client.post("/signin", data={"login": login, "password": password, "csrf_token": token,
                                        "next": next}, follow_redirects=False)


def post_form(client, path: str, data: dict | None = None, **kwargs):
    """A form POST with this browser's CSRF token, as the page's form would send it."""
    data = dict(data or {})
    data.setdefault("csrf_token", page_token(client, "/"))
    return client.post(path, data=data, follow_redirects=kwargs.pop("follow_redirects", False),
                       **kwargs)


def json_post(client, path: str, json=None, **kwargs):
    headers = {"X-CSRF-Token": page_token(client, "/"), **kwargs.pop("headers", {})}
    return client.post(path, json=json, headers=headers, **kwargs)


def new_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://testserver")


@pytest.fixture
def any_app(store, tmp_path):
    """The real app on the parametrized store (SQLite and PostgreSQL), with the web seed data."""
    from paperboy.settings import load_settings
    from paperboy.web.app import create_app
    from tests.web.conftest import seed_papers

    seeded = seed_papers(store)
    settings = load_settings({"data_dir": tmp_path / "data", "ingest_interval_minutes": 0},
                             environ={})
    app = create_app(settings, store, searcher=False)
    app.state.seed = seeded
    return app


@pytest.fixture
def any_client(any_app):
    with new_client(any_app) as c:
        yield c
