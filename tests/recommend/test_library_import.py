"""Importing a library: matched by arXiv id, DOI and title; missing arXiv ids fetched from a
replayed arXiv API; unknown ids and an unreachable arXiv reported one line each; idempotent."""

from __future__ import annotations

from datetime import datetime

import pytest

from paperboy.recommend.library_import import import_library
from paperboy.settings import load_settings
from paperboy.sources.library import LibraryError
from tests.builders import make_paper
from tests.replay import closed_port_url, fixture_bytes


@pytest.fixture
def reader(sqlite_store):
    sqlite_store.papers.upsert([
        make_paper(id="1706.03762", title="Attention Is All You Need",
                   published=datetime(2017, 6, 12)),
        make_paper(id="s2:lovelace", title="Sketch of the Analytical Engine",
                   doi="10.5555/Analytical.Engine", published=datetime(1843, 1, 1)),
        make_paper(id="2301.00001", title="Semi-Supervised Classification with Graph "
                                          "Convolutional Networks"),
    ], source="arxiv")
    return sqlite_store, sqlite_store.accounts.create_user("ada", "ada@example.org", "x").id


def _settings(tmp_path, url):
    return load_settings({"data_dir": tmp_path / "d", "arxiv_api_url": url + "/api/query",
                          "request_interval": 0, "http_retries": 0}, environ={})


def test_bibtex_import_matches_fetches_and_is_idempotent(reader, server, tmp_path):
    store, uid = reader
    server.route("/api/query", (200, fixture_bytes("arxiv_api/v3.xml")))
    settings = _settings(tmp_path, server.url)
    report = import_library(store, settings, uid, fixture_bytes("library/zotero.bib"), "zotero.bib")
    # by arXiv id (1706.03762), by DOI (lovelace), fetched (2410.16256)
    assert {row[0] for row in store.signals.library(uid)} == {"1706.03762", "s2:lovelace",
                                                              "2410.16256"}
    assert (report.entries, report.matched, report.fetched, report.added) == (3, 3, 1, 3)
    assert [p.split(":")[1] for p in report.problems] == ["27", "39"]
    assert store.papers.get("2410.16256").title.startswith("CompassJudger-1")
    assert server.requests[0][1]["id_list"] == "2410.16256"
    again = import_library(store, settings, uid, fixture_bytes("library/zotero.bib"), "zotero.bib")
    assert again.added == 0 and again.matched == 3 and again.fetched == 0
    assert len(store.signals.library(uid)) == 3


def test_title_match_and_ids_arxiv_does_not_know(reader, server, tmp_path):
    store, uid = reader
    server.route("/api/query", (200, fixture_bytes("arxiv_api/v3.xml")))
    settings = _settings(tmp_path, server.url)
    data = (b"@article{k, title={Semi-supervised classification with graph convolutional "
            b"networks}, journal={Proceedings}}\n")
    report = import_library(store, settings, uid, data, "scholar.bib")
    assert report.matched == 1 and store.signals.library(uid)[0][0] == "2301.00001"
    report = import_library(store, settings, uid, fixture_bytes("library/ids.txt"), "ids.txt")
    lines = report.problems
    assert any(":5:" in p and "not an arXiv id" in p for p in lines)
    assert any(":4:" in p and "1609.02907" in p and "arXiv does not know it" in p for p in lines)
    assert any(":6:" in p and "9999.99999" in p for p in lines)
    assert report.fetched == 1 and len(lines) == 3


def test_unreachable_arxiv_reports_each_missing_entry(reader, tmp_path):
    store, uid = reader
    settings = _settings(tmp_path, closed_port_url())
    report = import_library(store, settings, uid, fixture_bytes("library/ids.txt"), "ids.txt")
    unreachable = [p for p in report.problems if "could not be reached" in p]
    assert len(unreachable) == 3  # 2410.16256, 1609.02907, 9999.99999: one line each
    assert report.matched == 1  # 1706.03762 is in the store; it still goes in
    assert [row[0] for row in store.signals.library(uid)] == ["1706.03762"]


def test_a_file_that_cannot_be_read_changes_nothing(reader, tmp_path):
    store, uid = reader
    with pytest.raises(LibraryError):
        import_library(store, _settings(tmp_path, closed_port_url()), uid, b"", "empty.bib")
    assert store.signals.library(uid) == []
