"""Issue 19.3: papers without a date get the month of their arXiv id, marked approximate;
papers with no date at all sort last; nothing shows 1970 or a dangling separator."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from paperboy.cli.main import cli
from paperboy.ids import month_of
from paperboy.storage import database
from paperboy.storage.papers import merge_paper
from tests.builders import make_paper


def test_month_of_arxiv_ids():
    assert month_of("2505.11213") == date(2025, 5, 1)
    assert month_of("0704.0001") == date(2007, 4, 1)
    assert month_of("hep-th/9901001") == date(1999, 1, 1)
    assert month_of("math.AP/0701001") == date(2007, 1, 1)
    assert month_of("2513.00001") is None  # no 13th month
    assert month_of("s2:4983") is None and month_of("doi:10.1/x") is None


def _undated_corpus(store):
    store.papers.upsert([
        make_paper(id="2505.11213", published=None, updated=None, categories=["math.AP"],
                   primary_category="math.AP", title="Navier-Stokes, undated"),
        make_paper(id="0704.0001", published=datetime(2007, 4, 2), categories=["math.AP"],
                   primary_category="math.AP", title="Dated 2007"),
        make_paper(id="s2:4983", published=None, updated=None, categories=["math.AP"],
                   primary_category="math.AP", title="No date at all"),
    ], source="csv")


def test_approximate_month_sorts_with_the_dated_and_undated_last(store):
    _undated_corpus(store)
    page = store.feeds.by_category("math.AP")
    assert [i.id for i in page.items] == ["2505.11213", "0704.0001", "s2:4983"]
    approx = store.papers.get("2505.11213")
    assert approx.published == datetime(2025, 5, 1) and approx.published_approx is True
    assert store.papers.get("0704.0001").published_approx is False
    assert store.papers.get("s2:4983").published is None


def test_a_real_date_replaces_the_month_and_is_never_replaced_by_it(store):
    _undated_corpus(store)
    store.papers.upsert([make_paper(id="2505.11213", published=datetime(2025, 5, 16, 17),
                                    categories=["math.AP"], title="Navier-Stokes")], source="arxiv")
    p = store.papers.get("2505.11213")
    assert (p.published, p.published_approx) == (datetime(2025, 5, 16, 17), False)
    store.papers.upsert([make_paper(id="2505.11213", published=None, categories=["math.AP"],
                                    title="Navier-Stokes")], source="csv")
    p = store.papers.get("2505.11213")
    assert (p.published, p.published_approx) == (datetime(2025, 5, 16, 17), False)


def test_merge_prefers_a_given_date_either_way():
    approx = {"published": datetime(2025, 5, 1), "published_approx": True, "title": "t"}
    real = {"published": datetime(2025, 5, 20), "published_approx": False, "title": "t"}
    assert merge_paper(approx, real)["published"] == datetime(2025, 5, 20)
    assert merge_paper(real, approx)["published"] == datetime(2025, 5, 20)
    assert merge_paper(real, approx)["published_approx"] is False


def test_upgrade_fills_the_month_of_papers_already_stored(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(database._alembic_config(conn), "0008_one_history")
        conn.execute(text(
            "INSERT INTO papers (id, title, abstract, authors, categories, ai_keywords, "
            "content_hash, hidden, created_at, modified_at) VALUES "
            "('2505.11213', 't', '', '[]', '[]', '[]', 'x', 0, '2026-01-01', '2026-01-01'), "
            "('s2:1', 't', '', '[]', '[]', '[]', 'x', 0, '2026-01-01', '2026-01-01')"))
    database.upgrade(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, published FROM papers")).all())
        flags = dict(conn.execute(text("SELECT id, published_approx FROM papers")).all())
    assert rows["2505.11213"].startswith("2025-05-01") and flags["2505.11213"] == 1
    assert rows["s2:1"] is None and flags["s2:1"] == 0


@pytest.fixture
def undated_app(tmp_path):
    from fastapi.testclient import TestClient

    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    settings = load_settings({"data_dir": tmp_path / "d", "ingest_interval_minutes": 0},
                             environ={})
    store = open_store(settings)
    _undated_corpus(store)
    with TestClient(create_app(settings, store, searcher=False)) as c:
        yield c, settings
    store.close()


def test_pages_feeds_and_apis_mark_the_month_and_never_say_1970(undated_app):
    c, _ = undated_app
    page = c.get("/papers/2505.11213").text
    assert "May 2025" in page and "approximate" in page
    eyebrow = page.split('class="eyebrow">', 1)[1].split("</p>", 1)[0]
    assert "·" not in eyebrow and "math.AP" in eyebrow  # no day listed: no separator
    assert "·" not in c.get("/papers/s2:4983").text.split('class="eyebrow">', 1)[1].split("</p>")[0]
    assert "(approximate" in c.get("/papers/2505.11213.md").text
    for fmt in ("rss", "atom"):
        xml = c.get(f"/feeds/category/math.AP.{fmt}").text
        assert "1970" not in xml and "2025" in xml
    v1 = c.get("/api/v1/papers/2505.11213").json()
    assert v1["published"] == "2025-05-01T00:00:00Z" and v1["published_approx"] is True
    assert c.get("/api/v1/papers/0704.0001").json()["published_approx"] is False
    hf = c.get("/api/papers/2505.11213").json()
    assert hf["publishedAt"].startswith("2025-05-01") and hf["publishedAtApproximate"] is True
    assert "publishedAtApproximate" not in c.get("/api/papers/0704.0001").json()


def test_cli_show_and_search_print_no_dangling_separators(undated_app):
    _, settings = undated_app
    run = lambda *a: CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "-q", *a])
    shown = run("show", "2505.11213")
    assert shown.exit_code == 0, shown.output
    assert "published: 2025-05 (approximate" in shown.output
    assert "published" not in run("show", "s2:4983").output
    assert run("index", "sync").exit_code == 0  # papers stored directly, not by an import
    found = run("search", "--mode", "lexical", "undated OR date OR 2007")
    assert found.exit_code == 0, found.output
    assert "----" not in found.output and "≈2025-05" in found.output
    since = run("search", "--mode", "lexical", "--since", "2025-05-01", "--json", "navier")
    assert [h["id"] for h in __import__("json").loads(since.stdout)] == ["2505.11213"]


def test_a_month_read_off_the_id_puts_a_paper_on_no_days_feed(store):
    """3,397 undated CSV rows must not all land on the feed of the 1st of May."""
    from paperboy.storage.feeds import Period

    _undated_corpus(store)
    assert store.feeds.latest_day() == date(2007, 4, 2)
    assert store.feeds.listed(Period.day(date(2025, 5, 1))).total == 0
    assert store.feeds.count(Period.day(date(2025, 5, 1))) == 0
    assert store.feeds.neighbours(Period.day(date(2007, 4, 2))) == (None, None)
