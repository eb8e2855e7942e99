"""Pure community logic: Markdown sanitizing, BibTeX, rate limits, trending formula, passwords,
write retries."""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from datetime import date, datetime

import pytest
from sqlalchemy.exc import OperationalError

from paperboy import trending
from paperboy.community import passwords
from paperboy.community.bibtex import bibtex, cite_key
from paperboy.community.markdown import ALLOWED_TAGS, render_comment
from paperboy.community.ratelimit import RateLimited, RateLimiter, Rule
from paperboy.storage.writes import write
from tests.builders import make_paper


class _Elements(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<a href='javascript:alert(1)'>a</a>",
    "<img src=x onerror=alert(1)>",
    "![img](http://x/y.png)",
    '<iframe src="//evil"></iframe>',
    "<svg onload=alert(1)>",
    '[x](http://e.com "t" onmouseover="a")',
    "<style>body{display:none}</style>",
    "[x](vbscript:msgbox(1))",
])
def test_markdown_hostile_input_is_inert(source):
    """Only allowed tags survive, with no event handlers and only http(s)/mailto links."""
    for tag, attrs in _Elements(render_comment(source)).found:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name in attrs), attrs
        assert set(attrs) <= {"href", "title", "rel", "class"}, attrs
        if "href" in attrs:
            assert attrs["href"].split(":", 1)[0].lower() in ("http", "https", "mailto"), attrs


def test_markdown_subset_and_tex_typeset():
    html = render_comment("**bold** *em* `a<b` [ok](https://example.org)\n\n- one\n- two\n\n"
                          "> quote\n\n```\ncode & <tags>\n```\n\n$x_1 * y_1$ and $$\\sum_i a_i$$ cost $5 or $6")
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html and "<code>a&lt;b</code>" in html
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer ugc">ok</a>' in html
    assert "<li>one</li>" in html and "<blockquote>" in html
    assert "code &amp; &lt;tags&gt;" in html
    assert '<span class="math" title="$x_1 * y_1$"><math display="inline">' in html
    assert '<span class="math" title="$$\\sum_i a_i$$"><math display="block">' in html
    assert "cost $5 or $6" in html  # money is not math
    assert "<h1" not in render_comment("# not a heading")


def test_bibtex_escapes_and_keys():
    a = make_paper(id="2410.17243", title="Retrieval {Heads} & 100% of $O(n^2)$ _facts_",
                   authors=["José García", "Ada Lovelace"], published=datetime(2024, 10, 22),
                   primary_category="cs.CL", journal_ref=None, doi="10.1/x_y")
    b = make_paper(id="2410.17244", title="Retrieval again", authors=["José García"],
                   published=datetime(2024, 10, 22))
    c = make_paper(id="s2:123", title="No arXiv", authors=[], published=None)
    out = bibtex([a, b, c])
    assert out.count("@misc{") == 3
    assert cite_key(a) == "garcia2024retrieval"
    assert "garcia2024retrieval,\n" in out and "garcia2024retrievala,\n" in out  # unique keys
    assert r"Retrieval \{Heads\} \& 100\% of $O(n^2)$ \_facts\_" in out
    assert "author = {José García and Ada Lovelace}" in out
    assert "eprint = {2410.17243}" in out and "primaryClass = {cs.CL}" in out
    assert r"doi = {10.1/x\_y}" in out
    assert "eprint = {s2:123}" not in out
    # braces stay balanced whatever the title
    hostile = make_paper(title="}} @misc{evil, title={x", authors=["A }B"])
    entry = bibtex([hostile])
    depth = 0
    for ch in entry.replace("\\{", "").replace("\\}", ""):
        depth += (ch == "{") - (ch == "}")
        assert depth >= 0
    assert depth == 0


def test_rate_limiter_sliding_window():
    now = [0.0]
    limiter = RateLimiter({"x": Rule(3, 10)}, clock=lambda: now[0])
    for _ in range(3):
        limiter.hit("x", "k")
    with pytest.raises(RateLimited) as err:
        limiter.hit("x", "k")
    assert err.value.retry_after == 10
    limiter.hit("x", "other")  # keys are independent
    now[0] = 10.5
    limiter.hit("x", "k")  # the window slid
    limiter.reset("x", "k")
    limiter.check("x", "k")
    limiter.hit("unknown-rule", "k")  # no rule, no limit


def test_rate_limiter_is_thread_safe():
    limiter = RateLimiter({"x": Rule(100, 60)})
    refused = []

    def hammer():
        for _ in range(50):
            try:
                limiter.hit("x", "k")
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refused) == 8 * 50 - 100


def test_trending_formula():
    ref = datetime(2024, 10, 26, 0, 0)
    fresh = trending.score(trending.points(10, 0, 0, 0), trending.age_hours(date(2024, 10, 25), ref))
    old = trending.score(trending.points(50, 0, 0, 0), trending.age_hours(date(2024, 10, 20), ref))
    assert fresh > old  # 11/26^1.8 > 51/146^1.8
    assert trending.points(1, 2, 2, 2) == 1 + 1 + 2 + 0.5 * 4
    assert trending.score(2, 0) == pytest.approx(2 / 2 ** 1.8)
    # browsing a past month measures age at its end, not now
    assert trending.reference_time(date(2024, 10, 31), datetime(2030, 1, 1)) == datetime(2024, 11, 1)
    assert trending.reference_time(None, ref) == ref


def test_password_rules_and_dummy_verification():
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem("alice-secret-123", username="alice") is not None
    assert passwords.password_problem("aaaaaaaaaaaa") is not None
    assert passwords.password_problem("a perfectly fine passphrase") is None
    h = passwords.hash_password("a perfectly fine passphrase")
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, "a perfectly fine passphrase")
    assert not passwords.verify_password(h, "wrong")
    assert not passwords.verify_password(None, "anything")  # burns a dummy verification
    assert not passwords.verify_password("not-a-hash", "x")


def test_write_retries_a_locked_database(sqlite_store):
    calls = []

    def flaky(conn):
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        return "done"

    assert write(sqlite_store.engine, flaky) == "done" and len(calls) == 3

    def broken(conn):
        raise OperationalError("SELECT", {}, Exception("no such table: x"))

    with pytest.raises(OperationalError):
        write(sqlite_store.engine, broken)


def test_a_vote_waits_for_a_long_writer_instead_of_failing(sqlite_store, password_hash):
    """Another process holds SQLite's write lock for a while: the vote waits, then succeeds."""
    import sqlite3

    paper = make_paper()
    sqlite_store.papers.upsert([paper], source="arxiv")
    user = sqlite_store.accounts.create_user("waiter", "w@example.org", password_hash)
    path = sqlite_store.engine.url.database
    other = sqlite3.connect(path, isolation_level=None, timeout=1, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        assert sqlite_store.community.set_upvote(user.id, paper.id) is True
    finally:
        release.join()
        other.close()
    assert sqlite_store.community.upvote_rows(paper.id) == 1


def test_safe_url_keeps_only_web_links():
    from paperboy.community.markdown import safe_url

    assert safe_url("https://github.com/x/y") == "https://github.com/x/y"
    assert safe_url("mailto:a@b.org") == "mailto:a@b.org"
    for bad in ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:alert(1)",
                "data:text/html,x", "vbscript:x", "//evil.example", "", None, "no-scheme"):
        assert safe_url(bad) == "", bad
