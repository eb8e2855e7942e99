"""`paperboy ingest ...` end to end: summaries, exit codes, one-line errors, every source."""

from __future__ import annotations

import gzip
import json

from tests.replay import FIXTURES, closed_port_url, fixture_bytes

SAMPLES = FIXTURES / "samples"
SAMPLE = SAMPLES / "arxiv-snapshot.jsonl"  # 60 real records


def test_ingest_snapshot_file_then_again(paperboy):
    result = paperboy("ingest", "file", SAMPLE)
    assert result.exit_code == 0, result.output
    assert "snapshot: 60 new, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    again = paperboy("ingest", "file", SAMPLE, "--format", "arxiv-snapshot")
    assert "snapshot: 0 new, 0 updated, 60 unchanged, 0 rejected" in again.stdout
    shown = paperboy("show", "0704.0001", "--json")
    assert json.loads(shown.stdout)["version"] == 2


def test_rejected_records_exit_3_with_one_line_each(paperboy, tmp_path):
    path = tmp_path / "mixed.jsonl"
    rec = {"id": "2410.00001", "title": "Fine", "abstract": "", "categories": "cs.LG",
           "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
           "authors_parsed": [["One", "A."]], "update_date": "2024-10-01"}
    path.write_text("\n".join([
        json.dumps(rec),
        "not json",
        json.dumps({**rec, "id": "2410.00002", "title": None}),
        json.dumps({**rec, "id": "2410.00003",
                    "versions": [{"version": "v1", "created": "31/02/2024"}]}),
        json.dumps({**rec, "id": "2410.00004"}),
    ]) + "\n")
    result = paperboy("ingest", "file", path)
    assert result.exit_code == 3
    assert "2 new, 0 updated, 0 unchanged, 3 rejected" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"rejected {path}:2: bad JSON")
    assert lines[1] == f"rejected {path}:3 (2410.00002): missing title"
    assert lines[2] == f"rejected {path}:4 (2410.00003): unparseable v1 date '31/02/2024'"
    assert "Traceback" not in result.output


def test_missing_file_and_bad_gzip_are_one_line(paperboy, tmp_path):
    result = paperboy("ingest", "file", tmp_path / "nope.jsonl")
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'nope.jsonl'}: no such file\n"
    bad = tmp_path / "broken.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00garbage" * 20)
    result = paperboy("ingest", "file", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: unreadable") and result.stderr.count("\n") == 1


def test_truncated_gzip_keeps_good_records_exit_3(paperboy, tmp_path):
    full = tmp_path / "full.jsonl.gz"
    with gzip.open(full, "wt") as fh:
        for i in range(3000):
            fh.write(json.dumps({"id": f"2410.{i:05d}", "title": f"T {i}", "abstract": "x " * 50,
                                 "categories": "cs.LG"}) + "\n")
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full.read_bytes()[:-200])
    result = paperboy("ingest", "file", cut, "--format", "arxiv-snapshot")
    assert result.exit_code == 3
    assert "truncated file" in result.stderr and "1 rejected" in result.stdout


def test_csv_with_map_and_jsonl_with_prefix(paperboy, tmp_path):
    path = tmp_path / "papers.csv"
    path.write_text("key,name,body\n2401.00001,Hello,World\n")
    result = paperboy("ingest", "file", path, "--map", "id=key,title=name,abstract=body")
    assert result.exit_code == 0 and "csv: 1 new" in result.stdout
    result = paperboy("ingest", "file", SAMPLES / "scifact_corpus.jsonl",
                      "--id-prefix", "s2", "--batch-size", "1000")
    assert result.exit_code == 0, result.stderr
    assert "jsonl: 30 new" in result.stdout
    first_id = json.loads((SAMPLES / "scifact_corpus.jsonl").open().readline())["_id"]
    assert json.loads(paperboy("show", f"s2:{first_id}", "--json").stdout)["id"] == f"s2:{first_id}"
    bad_map = paperboy("ingest", "file", path, "--map", "title")
    assert bad_map.exit_code == 2 and bad_map.stderr.startswith("error: --map entry 'title'")


def test_ingest_hf_file_and_api(paperboy, replay_server):
    result = paperboy("ingest", "file", FIXTURES / "hf" / "daily_papers_2024-10-25.json")
    assert result.exit_code == 0 and "hf: 29 new" in result.stdout
    replay_server.route("/api/daily_papers", (200, fixture_bytes("hf/daily_papers_2024-10-28.json")))
    replay_server.route("/api/query", (200, fixture_bytes("arxiv_api/id_list_2.xml")))
    result = paperboy("ingest", "hf", "--date", "2024-10-28", "--no-embed")
    assert result.exit_code == 3
    assert "hf: 2 new, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    # then the categories of every listed paper without them, from arXiv, 100 ids a request
    assert "arxiv: 0 new, 2 updated, 0 unchanged, 0 rejected" in result.stdout
    hf_asked = [p for path, p in replay_server.requests if path == "/api/daily_papers"]
    assert hf_asked[-1] == {"date": "2024-10-28"}
    (asked,) = [p for path, p in replay_server.requests if path == "/api/query"]
    ids = asked["id_list"].split(",")
    assert len(ids) == 31 and sorted(ids[:2]) == ["2410.18057", "2410.19008"]  # newest first
    assert json.loads(paperboy("show", "2410.18057", "--json").stdout)["categories"] == [
        "cs.CV", "cs.CL"]
    shown = json.loads(paperboy("show", "2410.19008", "--json").stdout)
    assert shown["code_url"] == "https://github.com/princeton-nlp/ProLong"
    assert shown["listings"][0]["upvotes"] == 21


def test_ingest_arxiv_rss_oai(paperboy, replay_server):
    replay_server.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml")))
    result = paperboy("ingest", "arxiv", "--category", "cs.LG", "--since", "2024-10-22",
                      "--until", "2024-10-23", "--no-embed")
    assert result.exit_code == 0, result.output
    assert "arxiv: 2 new" in result.stdout
    replay_server.route("/rss/cs.LG+cs.CL", (200, fixture_bytes("rss/cs.LG+cs.CL.xml")))
    result = paperboy("ingest", "rss", "cs.LG", "cs.CL", "--no-embed")
    assert result.exit_code == 0 and "rss: 2 new, 2 updated" in result.stdout
    listed = json.loads(paperboy("show", "2410.18057", "--json").stdout)["listings"]
    assert listed[0]["announce_type"] == "new" and listed[0]["listed_on"] == "2024-10-25"

    replay_server.route("/oai", (200, fixture_bytes("oai/arXiv_page1.xml")),
                 match=lambda p: "resumptionToken" not in p)
    replay_server.route("/oai", (200, fixture_bytes("oai/arXiv_page2.xml")),
                 match=lambda p: "resumptionToken" in p)
    result = paperboy("ingest", "oai", "--set", "cs", "--from", "2024-10-20")
    assert result.exit_code == 3 and "1 rejected" in result.stdout
    replay_server.route("/oai", (200, fixture_bytes("oai/noRecordsMatch.xml")))
    replay_server.requests.clear()
    result = paperboy("ingest", "oai", "--set", "cs")
    assert result.exit_code == 0
    assert replay_server.requests[0][1]["from"] == "2024-10-26"  # continued from the stored cursor


def test_unreachable_server_is_one_line_exit_4(paperboy):
    url = closed_port_url()
    result = paperboy("ingest", "rss", "cs.LG", "--no-embed",
                      extra_env={"PAPERBOY_ARXIV_RSS_URL": url + "/rss"})
    assert result.exit_code == 4
    assert result.stderr.startswith("error: 127.0.0.1:") and "unreachable" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_a_source_failing_midway_reports_what_was_stored(paperboy, replay_server):
    replay_server.route("/oai", (200, fixture_bytes("oai/arXiv_page1.xml")),
                        match=lambda p: "resumptionToken" not in p)
    replay_server.route("/oai", (503, b"busy"), match=lambda p: "resumptionToken" in p)
    result = paperboy("ingest", "oai", "--set", "cs", "--from", "2024-10-20")
    assert result.exit_code == 4, result.output
    assert "stopped early, run the same command again to continue" in result.stdout
    new = int(result.stdout.split("oai: ", 1)[1].split(" new", 1)[0])
    assert new > 0
    assert json.loads(paperboy("stats", "--json").stdout)["papers"] == new
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_first_oai_harvest_without_from_takes_recent_days(paperboy, replay_server):
    from datetime import datetime, timedelta, timezone

    replay_server.route("/oai", (200, fixture_bytes("oai/noRecordsMatch.xml")))
    result = paperboy("ingest", "oai", "--set", "math", extra_env={"PAPERBOY_FETCH_DAYS": "3"})
    assert result.exit_code == 0, result.output
    expected = datetime.now(timezone.utc).date() - timedelta(days=2)
    assert replay_server.requests[0][1]["from"] == expected.isoformat()
    assert replay_server.requests[0][1]["set"] == "math"


def test_bad_id_prefix_is_refused(paperboy, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"_id": "1", "title": "T", "text": "x"}\n')
    result = paperboy("ingest", "file", path, "--id-prefix", "My Prefix")
    assert result.exit_code == 2 and result.stderr.startswith("error: --id-prefix 'My Prefix'")


def _snap(n: int, **overrides) -> dict:
    rec = {"id": f"2401.{n:05d}", "title": f"Paper {n}", "abstract": "Abs.", "authors": "A One",
           "categories": "cs.LG", "update_date": "2024-10-01", "journal-ref": None,
           "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
           "authors_parsed": [["One", "A"]]}
    rec.update(overrides)
    return rec


def test_a_bad_line_in_the_middle_costs_no_good_record(tmp_path, paperboy, settings):
    """The reported case: 10,001 lines, line 5,001 bad; all 10,000 good ones stored, exit 3."""
    path = tmp_path / "big.jsonl"
    with open(path, "w") as fh:
        for n in range(10_001):
            fh.write(json.dumps(_snap(n, doi=["bad"]) if n == 5000 else _snap(n)) + "\n")
    result = paperboy("-q", "ingest", "file", path)
    assert result.exit_code == 3, result.output
    assert f"rejected {path}:5001 (2401.05000): doi: expected text, got list" in result.output
    assert "10000 new" in result.output and "1 rejected" in result.output
    from paperboy.storage import open_store

    with open_store(settings) as store:
        assert store.papers.count() == 10_000
