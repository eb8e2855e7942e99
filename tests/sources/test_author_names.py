"""Issue 19.8: author names are stored as each source writes them (hyphenated initials,
particles, non-Latin scripts); folding happens only in the look-up key."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from paperboy.sources import arxiv_api, hf_daily, oai, snapshot, tabular
from paperboy.storage.papers import name_key

NAMES = ["C.-P. Yuan", "Jan van der Berg", "María de la Cruz", "李雷", "Ngô Bảo Châu",
         "Jean-Pierre Serre"]


def _snapshot():
    # the real snapshot's shape (0704.0001): a parsed list whose parser split "C.-P." in two
    record = {
        "id": "0704.0001", "title": "Names", "abstract": "x", "categories": "hep-ph",
        "authors": r"C.-P. Yuan, Jan van der Berg, Mar\'ia de la Cruz, 李雷, Ngô Bảo Châu, "
                   "Jean-Pierre Serre",
        "authors_parsed": [["Yuan", "C. -P.", ""], ["van der Berg", "Jan", ""],
                           ["de la Cruz", "María", ""], ["李雷", "", ""],
                           ["Châu", "Ngô Bảo", ""], ["Serre", "Jean-Pierre", ""]],
    }
    return snapshot.to_paper(record)


def _arxiv_api():
    authors = "".join(f"<author><name>{n}</name></author>" for n in NAMES)
    feed = (f'<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            f"<id>http://arxiv.org/abs/2410.00001v1</id><title>Names</title><summary>x</summary>"
            f"<published>2024-10-01T00:00:00Z</published>{authors}</entry></feed>")
    [paper], _ = arxiv_api.parse_feed(feed.encode(), "test")
    return paper


def _oai():
    parts = [("Yuan", "C.-P."), ("van der Berg", "Jan"), ("de la Cruz", "María"), ("李雷", None),
             ("Châu", "Ngô Bảo"), ("Serre", "Jean-Pierre")]
    authors = "".join(f"<author><keyname>{k}</keyname>"
                      + (f"<forenames>{f}</forenames>" if f else "") + "</author>"
                      for k, f in parts)
    meta = ET.fromstring(f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>2410.00002</id>'
                         f"<created>2024-10-01</created><title>Names</title>"
                         f"<authors>{authors}</authors><categories>cs.CL</categories>"
                         f"<abstract>x</abstract></arXiv>")
    return oai.parse_arxiv(meta)


def _csv(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("id,title,abstract,authors\n2410.00003,Names,x,\"" + ", ".join(NAMES) + "\"\n"
                    "2410.00004,Names,x,\"" + "; ".join(NAMES) + "\"\n", encoding="utf-8")
    return list(tabular.read_csv(path))


def _hf():
    return hf_daily.parse_item({"paper": {"id": "2410.00005", "title": "Names", "summary": "x",
                                          "authors": [{"name": n} for n in NAMES]}},
                               listed_on=None)


@pytest.mark.parametrize("reader", ["snapshot", "arxiv_api", "oai", "csv", "hf"])
def test_every_reader_keeps_the_names_as_written(reader, tmp_path):
    papers = {"snapshot": lambda: [_snapshot()], "arxiv_api": lambda: [_arxiv_api()],
              "oai": lambda: [_oai()], "csv": lambda: _csv(tmp_path), "hf": lambda: [_hf()]}[reader]()
    for paper in papers:
        assert paper.authors == NAMES


def test_store_api_and_author_pages_keep_them_and_fold_only_keys(store, settings):
    from fastapi.testclient import TestClient

    from paperboy.web.app import create_app

    store.papers.upsert([_snapshot(), _oai()], source="test")
    client = TestClient(create_app(settings, store, searcher=False))
    stored = store.papers.get("0704.0001")
    assert stored.authors == NAMES
    assert client.get("/api/v1/papers/0704.0001").json()["authors"] == NAMES
    assert [a["name"] for a in client.get("/api/papers/0704.0001").json()["authors"]] == NAMES
    assert name_key("C.-P. Yuan") == "c.-p. yuan" and name_key("María de la Cruz") == "maria de la cruz"
    page = client.get("/authors/maria de la cruz")
    assert page.status_code == 200 and "María de la Cruz" in page.text
    assert client.get("/api/v1/authors/c.-p. yuan").json()["name"] == "C.-P. Yuan"
    assert json.loads(client.get("/api/v1/authors/李雷").text)["count"] == 2


def test_cli_show_prints_the_snapshot_name(tmp_path):
    from click.testing import CliRunner

    from paperboy.cli.main import cli

    path = tmp_path / "snap.jsonl"
    path.write_text(json.dumps({
        "id": "0704.0001", "title": "Diphoton", "abstract": "x", "categories": "hep-ph",
        "authors": r"C. Bal\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
        "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
        "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""],
                           ["Nadolsky", "P. M.", ""], ["Yuan", "C. -P.", ""]]}) + "\n")
    run = lambda *a: CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "-q", *a])
    assert run("ingest", "file", str(path)).exit_code == 0
    shown = run("show", "0704.0001").output
    assert "authors: C. Balázs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan" in shown
