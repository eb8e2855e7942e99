"""Web fixtures, reusable by other areas' tests (community, mail):

- ``web_store`` / ``web_settings``: a seeded store (SQLite) with settings in a temp data dir;
  ``seed_papers(store)`` is the seed (3 listing days, organizations, a hostile title, TeX).
- ``app`` / ``client``: ``create_app`` on that store (search fallback unless a test passes a
  searcher) and a ``TestClient``; ``csrf_headers(client)`` gives a valid CSRF header.
- ``live_server``: the same app served by uvicorn in a thread; ``.url`` is its base URL.
- ``browser`` (session) and ``page``: headless Debian Chromium through Playwright; screenshots
  go to ``test-artifacts/`` via ``screenshot(page, name)``.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import data_dir_from, make_listing, make_paper

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

DAYS = [date(2024, 10, 23), date(2024, 10, 24), date(2024, 10, 25)]
HOSTILE_TITLE = '<script>alert("x")</script> Robust attention & friends'
TEX_ABSTRACT = "We prove a bound of $O(n^2)$ for <b>sorting</b> and \\(x < y\\) & more."


def seed_papers(store) -> dict:
    """A small but varied corpus; returns handy ids."""
    papers = []
    orgs = ["Google", "Meta AI", None, "Tsinghua University"]
    n = 0
    for di, day in enumerate(DAYS):
        for i in range(12):
            n += 1
            papers.append(make_paper(
                id=f"2410.{20000 + n:05d}",
                title=f"Paper {n}: scaling {['transformers', 'diffusion', 'retrieval'][i % 3]} "
                      f"for day {di}",
                abstract=f"We study {['attention heads', 'denoising', 'retrieval heads'][i % 3]} "
                         f"in model {n}. Results are strong.",
                authors=[f"Author {n % 7}", "Grace Hopper", f"Coauthor {n}", "Extra One",
                         "Extra Two"][: 2 + (n % 4)],
                categories=[["cs.LG", "cs.AI"], ["cs.CL"], ["cs.CV", "cs.LG"]][i % 3],
                primary_category=[["cs.LG"], ["cs.CL"], ["cs.CV"]][i % 3][0],
                published=datetime(day.year, day.month, day.day - 2, 10, i),
                organization=orgs[i % 4],
                code_url="https://github.com/example/repo" if i == 0 else None,
                project_url="https://example.org/project" if i == 0 else None,
                listing=make_listing(listed_on=day, upvotes=(i * 7) % 40, comments=i % 3,
                                     submitter=f"user{i % 3}", organization=orgs[i % 4]),
            ))
    hostile = make_paper(id="2410.29999", title=HOSTILE_TITLE, abstract=TEX_ABSTRACT,
                         authors=["José García", "Zoë Müller"], categories=["cs.CL"],
                         primary_category="cs.CL", published=datetime(2024, 10, 22, 9),
                         listing=make_listing(listed_on=DAYS[-1], upvotes=99, comments=5,
                                              submitter="akhaliq", organization="Meta AI"))
    unlisted = make_paper(id="2410.30001", title="An unlisted arXiv paper on retrieval",
                          authors=["Grace Hopper"], published=datetime(2024, 10, 21, 15))
    store.papers.upsert(papers + [hostile], source="hf")
    store.papers.upsert([unlisted], source="arxiv")
    return {"days": DAYS, "hostile": hostile.id, "unlisted": unlisted.id,
            "first": papers[0].id, "count": len(papers) + 2}


@pytest.fixture
def web_settings(tmp_path, sqlite_template):
    return load_settings({"data_dir": data_dir_from(sqlite_template, tmp_path),
                          "ingest_interval_minutes": 0}, environ={})


@pytest.fixture
def web_store(web_settings):
    store = open_store(web_settings)
    seed_papers(store)
    yield store
    store.close()


@pytest.fixture
def app(web_settings, web_store):
    from paperboy.web.app import create_app

    return create_app(web_settings, web_store, searcher=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


def csrf_headers(client) -> dict:
    """Headers with a CSRF token valid for this client's cookie (fetched from the API)."""
    token = client.get("/api/v1/csrf").json()["token"]
    return {"X-CSRF-Token": token}


def iter_routes(app_or_router):
    """Every route of an app, looking inside included routers (however FastAPI wraps them)."""
    for route in getattr(app_or_router, "routes", []):
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from iter_routes(inner)
        else:
            yield route


@dataclass
class LiveServer:
    url: str
    app: object
    server: object


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app) -> tuple[LiveServer, threading.Thread]:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return LiveServer(url=f"http://127.0.0.1:{port}", app=app, server=server), thread


@pytest.fixture
def live_server(app):
    live, thread = serve_in_thread(app)
    yield live
    live.server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
