"""Record limits and the reader guard (issue 14 cases 1, 2, 9 and the JSON-lines mapping)."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import replace

import pytest

from paperboy.ingest.pipeline import run_ingest
from paperboy.records import Paper, Reject
from paperboy.sources import hf_daily, snapshot, tabular
from paperboy.sources.common import BadValue
from paperboy.sources.validate import LIMITS, check_paper, checked
from tests.builders import make_listing, make_paper


def _snap(n: int, **overrides) -> dict:
    rec = {"id": f"2401.{n:05d}", "title": f"Paper {n}", "abstract": "Abs.", "authors": "A One",
           "categories": "cs.LG", "comments": None, "journal-ref": None, "doi": None,
           "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
           "authors_parsed": [["One", "A"]]}
    rec.update(overrides)
    return rec


DEEP = "[" * 5000 + "1" + "]" * 5000


@pytest.mark.parametrize("bad, problem", [
    ({"doi": ["10.1/x"]}, "doi: expected text, got list"),
    ({"comments": ["x"]}, "comments: expected text, got list"),
    ({"journal-ref": {"a": 1}}, "journal_ref: expected text, got dict"),
    ({"versions": [{"version": "v99999999999999999999",
                    "created": "Tue, 1 Oct 2024 10:00:00 GMT"}]}, "version 99999999999999999999"),
    ({"authors_parsed": [[["x"]]]}, "unusable record (AttributeError"),
])
def test_snapshot_bad_field_rejects_one_line_only(tmp_path, bad, problem):
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(_snap(n, **(bad if n == 2 else {}))) for n in range(4)))
    items = list(snapshot.read_snapshot(path))
    assert [i.id for i in items if isinstance(i, Paper)] == ["2401.00000", "2401.00001",
                                                              "2401.00003"]
    [reject] = [i for i in items if isinstance(i, Reject)]
    assert reject.location == f"{path}:3 (2401.00002)" and reject.problem.startswith(problem)


def test_deep_nesting_in_json_lines_and_hf_daily_is_one_reject(tmp_path):
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"id": "2401.00001", "title": "A"}\n'
                     '{"id": "2401.00002", "title": ' + DEEP + "}\n"
                     '{"id": "2401.00003", "title": "C"}\n')
    items = list(tabular.read_jsonl(lines))
    assert [i.id for i in items if isinstance(i, Paper)] == ["2401.00001", "2401.00003"]
    assert [str(i) for i in items if isinstance(i, Reject)] == [
        f"{lines}:2: bad JSON: nested too deeply"]

    daily = tmp_path / "daily_papers_2024-10-25.json"
    good = {"paper": {"id": "2410.00001", "title": "Good", "summary": "S"}}
    daily.write_text(f"[{json.dumps(good)}, {{\"paper\": {DEEP}}}, "
                     f"{json.dumps(good).replace('00001', '00002')}]")
    items = list(hf_daily.read_file(daily))
    assert [i.id for i in items if isinstance(i, Paper)] == ["2410.00001", "2410.00002"]
    assert [str(i) for i in items if isinstance(i, Reject)] == [
        f"{daily} item 2: nested too deeply"]


@pytest.mark.parametrize("field, value, problem", [
    ("categories", ["cs." + "x" * 40], "categories entry is 43 characters long; the limit is 32"),
    ("id", "doi:10.1000/" + "x" * 60, "id is 72 characters long; the limit is 64"),
    ("organization", "o" * 256, "organization is 256 characters long; the limit is 255"),
    ("code_url", "https://x.org/" + "u" * 500, "code_url is 514 characters long; the limit is 512"),
    ("abstract", "a\x00b", "abstract contains a NUL character"),
])
def test_column_limits_are_checked_before_either_database(store, field, value, problem):
    """PostgreSQL refused these (StringDataRightTruncation, exit 1, 0 of 3 stored)."""
    papers = [make_paper(), make_paper(**{field: value}), make_paper()]
    items = [checked(lambda p=p: p, f"rec {n}") for n, p in enumerate(papers)]
    errors = io.StringIO()
    report = run_ingest(store, items, "test", error_stream=errors, progress=False)
    assert (report.new, report.rejected) == (2, 1)
    assert errors.getvalue() == f"rejected rec 1: {problem}\n"


def test_check_paper_names_the_field_and_never_rewrites():
    paper = make_paper(authors=["  Ada   Lovelace "], listing=make_listing())
    assert check_paper(paper) is paper and paper.authors == ["  Ada   Lovelace "]
    for bad, message in [
        (dict(version=0), "version 0 is outside 1..100,000"),
        (dict(version=True), "version: expected a whole number, got bool"),
        (dict(title=" "), "missing title"),
        (dict(authors=["x"] * (LIMITS.authors + 1)), "authors: 10,001 entries"),
        (dict(authors="Ada"), "authors: expected a list, got str"),
        (dict(published="2024-01-01"), "published: expected a date, got str"),
        (dict(abstract="\ud800"), "abstract contains text that is not valid Unicode"),
        (dict(listing=make_listing(upvotes=-1)), "upvotes -1 is outside"),
    ]:
        with pytest.raises(BadValue, match=message):
            check_paper(replace(make_paper(), **bad))


def test_every_field_of_a_record_is_checked():
    """A field added to Paper or Listing must be added to the validator too."""
    from dataclasses import fields

    class Odd:
        pass

    for f in fields(make_paper()):
        if f.name != "listing":
            with pytest.raises(BadValue):
                check_paper(replace(make_paper(), **{f.name: Odd()}))
    for f in fields(make_listing()):
        with pytest.raises(BadValue):
            check_paper(make_paper(listing=replace(make_listing(), **{f.name: Odd()})))


def test_overlong_line_is_skipped_without_reading_it_whole(tmp_path):
    """A 300 KB .gz held a 300 MB abstract; lines over the limit are rejected as they stream."""
    path = tmp_path / "s.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(json.dumps(_snap(1)) + "\n")
        fh.write(json.dumps(_snap(2, abstract="a" * (LIMITS.line_bytes + 10))) + "\n")
        fh.write(json.dumps(_snap(3, abstract="a" * (LIMITS.abstract + 1))) + "\n")
        fh.write(json.dumps(_snap(4)) + "\n")
    items = list(snapshot.read_snapshot(path))
    assert [i.id for i in items if isinstance(i, Paper)] == ["2401.00001", "2401.00004"]
    assert [str(i) for i in items if isinstance(i, Reject)] == [
        f"{path}:2: line longer than {LIMITS.line_bytes:,} bytes; skipped",
        f"{path}:3 (2401.00003): abstract is 50,001 characters long; the limit is 50,000"]
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("id,title\n2401.00001,A\n2401.00002," + "b" * (LIMITS.line_bytes + 5)
                        + "\n2401.00003,C\n")
    items = list(tabular.read_csv(csv_path))
    assert [i.id for i in items if isinstance(i, Paper)] == ["2401.00001", "2401.00003"]
    assert [i.location for i in items if isinstance(i, Reject)] == [f"{csv_path}:3"]


def test_jsonl_mapping_is_not_taken_from_the_first_line_only(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "2401.00001", "title": "A"}\n'
                    '{"id": "2401.00002", "title": "B", "summary": "Found", "tags": ["cs.LG"]}\n')
    first, second = tabular.read_jsonl(path)
    assert first.abstract == "" and second.abstract == "Found"
    assert second.categories == ["cs.LG"]
