"""Issue 19.9, the small ones: old sign-in names, plurals, which days /trending shows, the
previous-day link to days no list featured, and why subscribing needs no CSRF token."""

from __future__ import annotations

import re

from click.testing import CliRunner

from paperboy.cli.main import cli
from paperboy.plural import count_of, verb
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper


def test_login_and_register_lead_to_signin_and_signup(client):
    r = client.get("/login?next=/trending", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/signin?next=/trending"
    r = client.get("/register", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/signup"
    assert "Sign in" in client.get("/login").text


def test_counts_agree_with_their_nouns(tmp_path):
    assert count_of(1, "paper") == "1 paper" and count_of(2, "paper") == "2 papers"
    assert count_of(0, "day") == "0 days" and verb(1, "needs", "need") == "needs"
    data = tmp_path / "d"
    with open_store(load_settings({"data_dir": data}, environ={})) as store:
        store.papers.upsert([make_paper(id="2410.00001")], source="test")
    run = lambda *a: CliRunner().invoke(cli, ["--data-dir", str(data), "-q", *a],
                                        env={"PAPERBOY_EMBEDDING_MODEL": "/nonexistent"})
    assert "(sqlite, 1 paper)" in run("init").output
    rebuilt = run("index", "rebuild").output
    assert "keyword index: 1 paper;" in rebuilt, rebuilt
    assert "1 papers" not in rebuilt and "1 paper need " not in rebuilt


def test_trending_says_which_days_it_shows(client):
    head = client.get("/trending").text.split('<div class="cards">')[0]
    assert "Oct 19, 2024 – Oct 25, 2024 (7 days up to the latest with papers)" in head
    assert "the last 7 days" not in head


def test_a_neighbour_day_without_a_daily_list_is_labelled(client):
    # 2024-10-23 is listed; the day before it with papers (10-21) holds only an unlisted paper
    r = client.get("/papers?date=2024-10-23")
    prev = re.search(r'<a [^>]*id="prev-period"[^>]*>(.*?)</a>', r.text, re.S).group(1)
    assert "2024-10-21" in prev and "no daily list" in prev
    nxt = re.search(r'<a [^>]*id="next-period"[^>]*>(.*?)</a>', r.text, re.S).group(1)
    assert "2024-10-24" in nxt and "no daily list" not in nxt
    home = client.get("/").text
    assert "no daily list" not in re.search(r'id="prev-period"[^>]*>(.*?)</a>', home, re.S).group(1)


def test_subscribing_needs_no_csrf_token_but_only_takes_json(client):
    body = '{"email": "reader@example.org", "period": "daily"}'
    r = client.post("/api/v1/subscriptions", content=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    # what a cross-site <form enctype="text/plain"> could send: refused
    r = client.post("/api/v1/subscriptions", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 422
    r = client.post("/api/v1/subscriptions", data={"email": "reader@example.org"})
    assert r.status_code == 422


def test_readme_explains_the_port_and_the_subscription_without_csrf():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert re.search(r"PAPERBOY_BASE_URL=\S+ paperboy serve --port", readme)
    why = readme[readme.index("That call needs no CSRF token"):][:600]
    assert "application/json" in why and "preflight" in why and "double opt-in" in why
