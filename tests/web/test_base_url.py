"""Issue 19.1: links follow the address served unless PAPERBOY_BASE_URL is set, then it wins."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
from fastapi.testclient import TestClient

from paperboy.settings import load_settings
from paperboy.web.app import create_app
from tests.cli.test_serve import _env, _free_port, _wait_for
from tests.community.web_helpers import post_form, signup


def _links(c: TestClient) -> list[str]:
    rss = c.get("/feeds/daily.rss").text
    api = c.get("/api/v1/papers/2410.29999").json()["url"]
    feed = c.get("/api/v1/feed").json()["data"][0]["url"]
    hf = c.get("/api/daily_papers?date=2024-10-25").json()[0]["thumbnail"]
    docs = re.search(r'endpoint=&#34;([^&]+)&#34;|endpoint="([^"]+)"', c.get("/docs").text)
    return re.findall(r"<link>([^<]+)</link>", rss)[:2] + [api, feed, hf,
                                                          docs.group(1) or docs.group(2)]


def test_unset_base_url_follows_the_request(web_settings, web_store):
    assert web_settings.base_url == ""
    app = create_app(web_settings, web_store, searcher=False)
    with TestClient(app, base_url="http://localhost:8766") as c:
        links = _links(c)
    assert all(link.startswith("http://localhost:8766") for link in links), links
    assert not any("8000" in link for link in links)


def test_set_base_url_is_used_everywhere(tmp_path, web_store):
    settings = load_settings({"data_dir": tmp_path / "d", "base_url": "https://papers.example.org/",
                              "ingest_interval_minutes": 0}, environ={})
    app = create_app(settings, web_store, searcher=False)
    with TestClient(app, base_url="https://localhost:8766") as c:
        links = _links(c)
        signup(c, "linker")
        assert post_form(TestClient(app, base_url="https://localhost:8766"), "/reset",
                         {"email": "linker@example.org"}).status_code == 200
    assert all(link.startswith("https://papers.example.org") for link in links), links
    [mail] = (tmp_path / "d" / "outbox").glob("*.eml")
    assert "https://papers.example.org/reset/" in mail.read_text()


def test_mailed_links_never_follow_a_forged_host(tmp_path, web_store):
    """Unset base URL: a reset e-mail links to the served address, not the request's Host."""
    settings = load_settings({"data_dir": tmp_path / "d", "port": 8766,
                              "ingest_interval_minutes": 0}, environ={})
    app = create_app(settings, web_store, searcher=False)
    with TestClient(app, base_url="http://evil.example") as c:
        signup(c, "victim")
        post_form(TestClient(app, base_url="http://evil.example"), "/reset",
                  {"email": "victim@example.org"})
    [mail] = (tmp_path / "d" / "outbox").glob("*.eml")
    text = mail.read_text()
    assert "http://127.0.0.1:8766/reset/" in text and "evil.example" not in text


def test_link_base_url_of_the_served_address():
    s = load_settings({"host": "0.0.0.0", "port": 9000}, environ={})
    assert s.link_base_url == "http://127.0.0.1:9000"
    assert load_settings({"host": "::1", "port": 81}, environ={}).link_base_url == "http://[::1]:81"
    assert load_settings({"base_url": "https://x.org/"}, environ={}).link_base_url == "https://x.org"


def test_serve_on_another_port_links_to_it_and_honours_a_local_proxy(tmp_path):
    from paperboy.storage import open_store
    from tests.web.conftest import seed_papers

    data = tmp_path / "data"
    with open_store(load_settings({"data_dir": data}, environ={})) as store:
        seed_papers(store)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "-q", "serve", "--port", str(port),
         "--no-schedule"],
        env=_env(data, _free_port()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/", proc)
        rss = httpx.get(f"{base}/feeds/daily.rss").text
        assert f"<link>{base}/papers/2410.29999</link>" in rss
        assert httpx.get(f"{base}/api/v1/papers/2410.29999").json()["url"] == \
            f"{base}/papers/2410.29999"
        # a proxy on 127.0.0.1 (uvicorn's default FORWARDED_ALLOW_IPS) passing Host and scheme
        proxied = httpx.get(f"{base}/api/v1/papers/2410.29999", headers={
            "Host": "papers.example.org", "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9"}).json()["url"]
        assert proxied == "https://papers.example.org/papers/2410.29999"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
