"""The Kaggle metadata snapshot: the real sample, gzip, and every kind of bad line."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pytest

from paperboy.errors import NotFound, PaperboyError
from paperboy.records import Paper, Reject
from paperboy.sources import snapshot
from tests.replay import FIXTURES

SAMPLE = FIXTURES / "samples" / "arxiv-snapshot.jsonl"  # 60 real records


def _record(**overrides):
    rec = {
        "id": "2410.00001", "submitter": "A", "authors": "Ada Lovelace and Alan Turing",
        "title": "A title", "comments": None, "journal-ref": None, "doi": None,
        "report-no": None, "categories": "cs.LG cs.AI", "license": None,
        "abstract": "  Some\nabstract. ",
        "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
        "update_date": "2024-10-02",
        "authors_parsed": [["Lovelace", "Ada"], ["Turing", "Alan", "Jr"]],
    }
    rec.update(overrides)
    return rec


def test_real_sample():
    items = list(snapshot.read_snapshot(SAMPLE))
    assert len(items) == 60 and all(isinstance(p, Paper) for p in items)
    p = items[0]
    assert p.id == "0704.0001" and p.version == 2
    assert p.title == ("Calculation of prompt diphoton production cross sections at Tevatron "
                       "and LHC energies")
    assert p.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]  # as written
    assert p.categories == ["hep-ph"] and p.primary_category == "hep-ph"
    assert p.published == datetime(2007, 4, 2, 19, 18, 42)
    assert p.updated == datetime(2007, 7, 24, 20, 10, 27)
    assert p.journal_ref == "Phys.Rev.D76:013009,2007" and p.doi == "10.1103/PhysRevD.76.013009"
    assert p.pdf_url == "https://arxiv.org/pdf/0704.0001"
    assert p.abstract.startswith("A fully differential calculation") and "\n" not in p.abstract
    # Records with 4-element authors_parsed entries (affiliation) keep only the name.
    four = next(x for x in items if x.id == "0704.0200")
    assert four.authors == ["Martin Schumacher"]


def test_author_entries_of_two_and_three_elements(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(_record()) + "\n")
    [p] = list(snapshot.read_snapshot(path))
    assert p.authors == ["Ada Lovelace", "Alan Turing Jr"]
    assert p.abstract == "Some abstract."
    assert p.published == p.updated == datetime(2024, 10, 1, 10)


def test_gzip_is_read(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        for i in range(3):
            fh.write(json.dumps(_record(id=f"2410.0000{i}")) + "\n")
    assert [p.id for p in snapshot.read_snapshot(path)] == ["2410.00000", "2410.00001", "2410.00002"]


def test_bad_lines_are_rejected_with_file_and_line(tmp_path):
    path = tmp_path / "s.jsonl"
    lines = [
        json.dumps(_record(id="2410.00001")),
        '{"id": "2410.00002", "title": ',                      # bad JSON
        json.dumps(_record(id="2410.00003", title="  ")),       # missing title
        json.dumps(_record(id="2410.00004", versions=[{"version": "v1", "created": "yesterday"}])),
        "",
        json.dumps(_record(id="not-an-id")),
        json.dumps(["a", "list"]),
        json.dumps(_record(id="2410.00005")),
    ]
    path.write_text("\n".join(lines) + "\n")
    items = list(snapshot.read_snapshot(path))
    assert [p.id for p in items if isinstance(p, Paper)] == ["2410.00001", "2410.00005"]
    rejects = [str(r) for r in items if isinstance(r, Reject)]
    assert rejects[0].startswith(f"{path}:2: bad JSON")
    assert rejects[1] == f"{path}:3 (2410.00003): missing title"
    assert rejects[2] == f"{path}:4 (2410.00004): unparseable v1 date 'yesterday'"
    assert rejects[3] == f"{path}:6 (not-an-id): id 'not-an-id' is not an arXiv id"
    assert rejects[4] == f"{path}:7: line is not a JSON object"
    assert len(rejects) == 5


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    full = tmp_path / "full.jsonl.gz"
    with gzip.open(full, "wt") as fh:
        for i in range(2000):
            fh.write(json.dumps(_record(id=f"2410.{i:05d}")) + "\n")
    data = full.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    items = list(snapshot.read_snapshot(cut))
    papers = [p for p in items if isinstance(p, Paper)]
    assert 0 < len(papers) < 2000
    assert isinstance(items[-1], Reject) and "truncated file" in items[-1].problem


def test_not_gzip_and_missing_file_are_one_line_errors(tmp_path):
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_text("{}\n")
    with pytest.raises(PaperboyError, match="named .gz but is not a gzip file"):
        list(snapshot.read_snapshot(fake))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage-garbage-garbage")
    with pytest.raises(PaperboyError, match="unreadable gzip file"):
        list(snapshot.read_snapshot(broken))
    with pytest.raises(NotFound, match="no such file"):
        list(snapshot.read_snapshot(tmp_path / "nope.jsonl"))
