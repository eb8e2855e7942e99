"""The app skeleton: factory, error pages, security headers, CSRF, secret key."""

from __future__ import annotations

import os
import stat

from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from paperboy.web.app import ROUTERS, create_app
from paperboy.secret_key import SECRET_FILE
from paperboy.web.security import CSRF_COOKIE, require_csrf
from tests.web.conftest import csrf_headers, iter_routes


def test_factory_builds_independent_apps(web_settings, web_store):
    a = create_app(web_settings, web_store, searcher=False)
    b = create_app(web_settings, web_store, searcher=False)
    assert a is not b and a.state.store is web_store
    assert a.state.settings is web_settings
    assert "paperboy.web.routes.pages" in ROUTERS


def test_secret_key_generated_once_with_mode_0600(web_settings, web_store):
    create_app(web_settings, web_store, searcher=False)
    path = web_settings.data_dir / SECRET_FILE
    key = path.read_text().strip()
    assert len(key) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    create_app(web_settings, web_store, searcher=False)
    assert path.read_text().strip() == key


def test_security_headers_and_csrf_cookie(client):
    r = client.get("/")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert '<meta name="csrf-token" content="' in r.text
    assert "<script>" not in r.text.replace('<script src="/static/js/paperboy.js" defer></script>', "")


def _app_with_post_route(web_settings, web_store):
    app = create_app(web_settings, web_store, searcher=False)
    router = APIRouter()
    hits = []

    @router.post("/api/v1/_probe", dependencies=[Depends(require_csrf)])
    def probe() -> dict:
        hits.append(1)
        return {"ok": True}

    app.include_router(router)
    return app, hits


def test_require_csrf_accepts_token_and_refuses_otherwise(web_settings, web_store):
    app, hits = _app_with_post_route(web_settings, web_store)
    with TestClient(app) as c:
        assert c.post("/api/v1/_probe").status_code == 403
        assert c.post("/api/v1/_probe", headers={"X-CSRF-Token": "forged"}).status_code == 403
        headers = csrf_headers(c)
        assert c.post("/api/v1/_probe", headers=headers).json() == {"ok": True}
        r = c.post("/api/v1/_probe", headers={**headers, "Origin": "https://evil.example"})
        assert r.status_code == 403 and "cross-origin" in r.json()["error"]
        r = c.post("/api/v1/_probe", headers={**headers, "Origin": "http://testserver"})
        assert r.status_code == 200
        # a form post carries the token in a hidden field
        r = c.post("/api/v1/_probe", data={"csrf_token": headers["X-CSRF-Token"]})
        assert r.status_code == 200
    with TestClient(app) as other:  # another browser: the token is not valid for its cookie
        other.get("/")
        assert other.post("/api/v1/_probe", headers=headers).status_code == 403
    assert len(hits) == 3


def test_errors_html_and_json(client):
    r = client.get("/papers/9999.99999")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Not found" in r.text and "9999.99999" in r.text
    r = client.get("/api/papers/9999.99999")
    assert r.status_code == 404 and "not found" in r.json()["error"]
    r = client.get("/papers?date=2024-13-45")
    assert r.status_code == 422 and "date: expected a date like" in r.text
    r = client.get("/api/daily_papers?limit=1000")
    assert r.status_code == 422 and r.json()["error"].startswith("limit:")
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "<html" in r.text


def test_no_state_change_on_get_routes(app):
    get_routes = 0
    for route in iter_routes(app):
        methods = getattr(route, "methods", set()) or set()
        if "GET" in methods:
            get_routes += 1
            assert not (methods & {"POST", "PUT", "DELETE", "PATCH"}), route.path
    assert get_routes >= 20
