"""No input gives a 500: every GET route, every parameter, hostile values."""

from __future__ import annotations

import inspect
import os
import itertools
import re
import typing
from urllib.parse import quote

import pytest
from fastapi import Request, params
from fastapi.testclient import TestClient

from paperboy.web.app import create_app
from tests.web.conftest import iter_routes

#: FUZZ_ONLY=pages,api_v1 limits the sweep to those router modules (when hunting one bug).
ONLY = [m for m in os.environ.get("FUZZ_ONLY", "").split(",") if m]

HOSTILE = [
    "", " ", "0", "-1", "99999999999999999999", "1e309", "NaN", "true", "x" * 5000,
    "<script>alert(1)</script>", "'; DROP TABLE papers;--", "a\x00b", "%", "%%25", "_",
    "2024-02-30", "2024-W99", "0000-00", "9999-12-31", "NEAR", '"unbalanced', "author:",
    "cat:", "../../etc/passwd", "\U0001f600 \u202e", "\\", "*", "()", "cs.CL", "2410.29999",
]


@pytest.fixture
def raw_client(web_settings, web_store):
    app = create_app(web_settings, web_store, searcher=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield app, c


def _get_routes(app):
    for route in iter_routes(app):
        if "GET" in (getattr(route, "methods", None) or ()) and hasattr(route, "endpoint"):
            yield route


def _query_names(route) -> list[str]:
    """Parameters of the endpoint that are neither path parameters nor dependencies."""
    hints = typing.get_type_hints(route.endpoint, include_extras=True)
    in_path = set(re.findall(r"\{(\w+)", route.path))
    names = []
    for name, param in inspect.signature(route.endpoint).parameters.items():
        hint = hints.get(name)
        if name in in_path or hint is Request:
            continue
        meta = getattr(hint, "__metadata__", ())
        if any(isinstance(m, params.Depends) for m in meta):
            continue
        names.append(name)
    return names


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", quote(value, safe="") or "x", path)


def test_no_500_for_any_parameter(raw_client):
    app, client = raw_client
    checked = 0
    for route in _get_routes(app):
        module = route.endpoint.__module__.rsplit(".", 1)[-1]
        if route.path.startswith("/static") or (ONLY and module not in ONLY):
            continue
        query_names = _query_names(route)
        fmt_values = ["rss", "atom"] if "{fmt}" in route.path else [None]
        for value, fmt in itertools.product(HOSTILE, fmt_values):
            path = route.path.replace("{fmt}", fmt) if fmt else route.path
            url = _fill(path, value)
            for name in query_names or [None]:
                params = {name: value} if name else {}
                r = client.get(url, params=params)
                checked += 1
                assert r.status_code < 500, (url, params, r.status_code, r.text[:300])
                if r.status_code >= 400 and r.headers["content-type"].startswith("application/json"):
                    assert r.json()["error"], (url, params)
    assert checked > 500


def test_many_parameters_at_once(raw_client):
    _, client = raw_client
    for value in [v for v in HOSTILE if len(v) < 1000]:
        params = {k: value for k in ("q", "since", "until", "category", "author", "page", "sort",
                                     "date", "week", "month", "limit", "p", "submitter", "mode")}
        for url in ("/search", "/papers", "/api/daily_papers", "/api/v1/search", "/api/v1/feed"):
            r = client.get(url, params=params)
            assert r.status_code < 500, (url, value, r.text[:300])


#: values PostgreSQL is stricter about than SQLite (NUL bytes, integer and date ranges)
PG_HOSTILE = ["a\x00b", "99999999999999999999", "-9223372036854775809", "0001-01-01",
              "'; DROP TABLE papers;--", "\u202e\U0001f600"]


@pytest.mark.postgres
def test_no_500_on_postgresql(pg_url, tmp_path):
    """The same sweep on PostgreSQL, with the real search service."""
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from tests.web.conftest import seed_papers

    settings = load_settings({"data_dir": tmp_path / "pg", "database_url": pg_url,
                              "ingest_interval_minutes": 0}, environ={})
    store = open_store(settings)
    try:
        seed_papers(store)
        app = create_app(settings, store)
        checked = 0
        with TestClient(app, raise_server_exceptions=False) as client:
            for route in _get_routes(app):
                if route.path.startswith("/static"):
                    continue
                path = route.path.replace("{fmt}", "rss")
                names = _query_names(route)
                for value in PG_HOSTILE:
                    url = _fill(path, value)
                    for name in names or [None]:
                        r = client.get(url, params={name: value} if name else {})
                        checked += 1
                        assert r.status_code < 500, (url, name, value, r.text[:300])
        assert checked > 100
    finally:
        store.close()
