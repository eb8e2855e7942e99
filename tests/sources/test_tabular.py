"""Generic CSV / JSON lines with a field mapping; list literals; id prefixes."""

from __future__ import annotations

import csv
import json

import pytest

from paperboy.errors import PaperboyError
from paperboy.records import Paper, Reject
from paperboy.sources import tabular
from paperboy.sources.detect import detect_format
from tests.replay import FIXTURES

SAMPLES = FIXTURES / "samples"


def test_arxiv_math_csv_with_list_literals():
    path = SAMPLES / "arxiv_math_2505.csv"
    items = list(tabular.read_csv(path))
    papers = [p for p in items if isinstance(p, Paper)]
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(papers) == len(rows) and not [r for r in items if isinstance(r, Reject)]
    first = papers[0]
    assert first.id == "2505.24868"
    assert first.title == "Consistent line clustering using geometric hypergraphs"
    assert first.categories == ["math.ST", "stat.ML"] and first.primary_category == "math.ST"
    assert first.authors == ["Kalle Alaluusua", "Konstantin Avrachenkov", "B. R. Vinay Kumar",
                             "Lasse Leskelä"]
    assert first.abs_url == "https://arxiv.org/abs/2505.24868"


def test_beir_corpus_with_id_prefix():
    path = SAMPLES / "scifact_corpus.jsonl"
    items = []
    for item in tabular.read_jsonl(path, id_prefix="s2"):
        items.append(item)
        if len(items) == 50:
            break
    first = json.loads(path.open().readline())
    assert items[0].id == f"s2:{first['_id']}"
    assert items[0].title == " ".join(first["title"].split())
    assert items[0].abstract == " ".join(first["text"].split())
    assert items[0].abs_url is None and items[0].categories == []


def test_explicit_mapping(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("paper,heading,summary,who,when\n"
                    "2401.00001v2,Hello,World,\"A One; B Two\",2024-01-02\n"
                    "doi:10.1000/x,Second,Text,[\"C Three\"],2024-01-03T05:06:07Z\n")
    mapping = tabular.parse_mapping("id=paper,title=heading,abstract=summary,"
                                    "authors=who,published=when")
    a, b = tabular.read_csv(path, mapping)
    assert (a.id, a.version, a.title, a.abstract) == ("2401.00001", 2, "Hello", "World")
    assert a.authors == ["A One", "B Two"]
    assert b.id == "doi:10.1000/x" and b.authors == ["C Three"]
    assert b.published.isoformat() == "2024-01-03T05:06:07"


def test_bad_rows_are_rejected_with_line(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("id,title,tags,published\n"
                    "2401.00001,Good,\"['cs.LG']\",2024-01-01\n"
                    "2401.00002,,\"['cs.LG']\",2024-01-01\n"
                    "2401.00003,Bad date,\"['cs.LG']\",someday\n"
                    "2401.00004,Code,\"[__import__('os').system('echo pwned')]\",2024-01-01\n"
                    "12345,No prefix,\"[]\",2024-01-01\n")
    items = list(tabular.read_csv(path))
    assert [p.id for p in items if isinstance(p, Paper)] == ["2401.00001"]
    rejects = [str(r) for r in items if isinstance(r, Reject)]
    assert rejects == [
        f"{path}:3: missing title",
        f"{path}:4: unparseable published 'someday'",
        f"{path}:5: categories: unreadable list \"[__import__('os').system('echo pwned')]\"",
        f"{path}:6: id '12345' is not an arXiv id; give --id-prefix to keep it as PREFIX:12345",
    ]


def test_jsonl_bad_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"_id": "1", "title": "T", "text": "x"}\n{"_id": 2,\n'
                    '{"_id": "3", "title": "U", "text": "y"}\n')
    items = list(tabular.read_jsonl(path, id_prefix="corpus"))
    assert [p.id for p in items if isinstance(p, Paper)] == ["corpus:1", "corpus:3"]
    [bad] = [r for r in items if isinstance(r, Reject)]
    assert bad.location == f"{path}:2" and bad.problem.startswith("bad JSON")


def test_mapping_errors_are_one_line(tmp_path):
    with pytest.raises(PaperboyError, match="must look like field=column"):
        tabular.parse_mapping("title")
    with pytest.raises(PaperboyError, match="unknown field 'colour'"):
        tabular.parse_mapping("colour=red")
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(PaperboyError, match="no title column among a, b"):
        list(tabular.read_csv(path))
    with pytest.raises(PaperboyError, match="not in the header"):
        list(tabular.read_csv(path, {"title": "nope"}))


def test_detect_formats(tmp_path):
    assert detect_format(SAMPLES / "arxiv-snapshot.jsonl") == "arxiv-snapshot"
    assert detect_format(FIXTURES / "hf" / "daily_papers_2024-10-25.json") == "hf-daily"
    assert detect_format(SAMPLES / "arxiv_math_2505.csv") == "csv"
    assert detect_format(SAMPLES / "scifact_corpus.jsonl") == "jsonl"
    odd = tmp_path / "notes.txt"
    odd.write_text("just some words\n")
    with pytest.raises(PaperboyError, match="cannot tell the format"):
        detect_format(odd)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(PaperboyError, match="is empty"):
        detect_format(empty)
