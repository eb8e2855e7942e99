"""Random JSON values in every field of every format: no traceback, every good record stored,
every other record either stored or counted as a reject (issue 14, cases 1, 2 and 9).

A seeded generator (no extra dependency) makes the values: nothing, booleans, huge and negative
numbers, floats, text with NULs, lone surrogates and over-limit lengths, lists, objects and
values nested past the parser's depth. Each run uses fixed seeds, so a failure reproduces.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date
from xml.sax.saxutils import escape

import pytest

from paperboy.ingest.pipeline import run_ingest
from paperboy.records import Paper, Reject
from paperboy.sources import arxiv_api, hf_daily, oai, rss, snapshot, tabular
from paperboy.sources.validate import LIMITS


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(14)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 7, 2**31, 10**20, -(10**30)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-9, 3.0])
    if kind == 4:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    if kind == 5:
        return rng.choice(["", " ", "\x00", "a\x00b", "\ud800", "v99999999999999999999",
                           f"2401.{rng.randrange(50_000, 99_999)}", "doi:10.1000/" + "x" * 80, "cs." + "x" * 40,
                           "Tue, 1 Oct 2024 10:00:00 GMT", "2024-13-45", "[1, 2", "['a', 'b']"])
    if kind == 6:
        return "x" * rng.choice([33, 65, 256, 513, LIMITS.title + 1, LIMITS.abstract + 1])
    if kind == 7:
        return Deep(rng.choice([50, 5000]))
    if kind == 8 and depth < 3:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if kind == 9 and depth < 3:
        return {str(rng.randrange(5)): random_value(rng, depth + 1) for _ in range(3)}
    if kind == 10:
        return [["x"]]
    if kind == 11:
        return [{"version": "v1", "created": random_value(rng, 3)}]
    if kind == 12:
        return {"name": random_value(rng, 3), "fullname": "x" * 300}
    return "plain text"


class Deep:
    """A list nested ``depth`` times, written out by :func:`_dumps` (too deep to build)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth


def _dumps(obj) -> str:
    deep: list[Deep] = []

    def placeholder(value):
        deep.append(value)
        return f"@@deep{len(deep) - 1}@@"

    text = json.dumps(obj, default=placeholder)
    for n, value in enumerate(deep):
        text = text.replace(f'"@@deep{n}@@"', "[" * value.depth + '"deep"' + "]" * value.depth)
    return text


def _records(rng, total, make, fields):
    """Records where every third is left as made (good) and the others have 1-3 random fields
    set to random values; returns them and the numbers of the good ones."""
    out, good = [], []
    for n in range(total):
        rec = make(n)
        if n % 3 == 0:
            good.append(n)
        else:
            for field in rng.sample(fields, rng.randint(1, 3)):
                rec = _set(rec, field, random_value(rng))
        out.append(rec)
    return out, good


def _set(rec, path, value):
    target = rec
    keys = path.split("/")
    for key in keys[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[keys[-1]] = value
    return rec


def _snapshot_record(n):
    return {"id": f"2401.{n:05d}", "title": f"Good paper {n}", "abstract": "An abstract.",
            "authors": "Ada Lovelace and Alan Turing", "categories": "cs.LG cs.AI",
            "comments": "5 pages", "journal-ref": None, "doi": None, "license": None,
            "versions": [{"version": "v1", "created": "Tue, 1 Oct 2024 10:00:00 GMT"}],
            "update_date": "2024-10-02", "authors_parsed": [["Lovelace", "Ada"]]}


def _tabular_record(n):
    return {"id": f"2401.{n:05d}", "title": f"Good paper {n}", "abstract": "An abstract.",
            "authors": "Ada Lovelace; Alan Turing", "categories": "cs.LG", "doi": "10.1/x",
            "published": "2024-01-02", "version": "v2", "organization": "Lab",
            "url": "https://example.org/x", "comments": "ok"}


def _hf_record(n):
    return {"paper": {"id": f"2401.{n:05d}", "title": f"Good paper {n}", "summary": "Abs.",
                      "authors": [{"name": "Ada Lovelace"}], "publishedAt": "2024-01-02T00:00:00Z",
                      "upvotes": 3, "githubRepo": "https://github.com/x/y",
                      "ai_keywords": ["a"], "ai_summary": "s", "organization": {"fullname": "L"}},
            "publishedAt": "2024-01-03T00:00:00Z", "numComments": 1, "submittedBy": {"name": "x"},
            "thumbnail": "https://example.org/t.png", "title": "T"}


SNAPSHOT_FIELDS = list(_snapshot_record(0))
TABULAR_FIELDS = list(_tabular_record(0))
HF_FIELDS = ["paper/" + k for k in _hf_record(0)["paper"]] + [
    k for k in _hf_record(0) if k != "paper"] + ["paper"]


def _write_snapshot(path, records):
    path.write_text("".join(_dumps(r) + "\n" for r in records))
    return snapshot.read_snapshot(path)


def _write_jsonl(path, records):
    path.write_text("".join(_dumps(r) + "\n" for r in records))
    return tabular.read_jsonl(path, id_prefix="t")


def _write_csv(path, records):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TABULAR_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: (v if isinstance(v, str) else _dumps(v)) for k, v in rec.items()})
    path.write_text(buf.getvalue().replace("\x00", "\\0"), errors="surrogatepass")
    return tabular.read_csv(path, id_prefix="t")


def _write_hf(path, records):
    path.write_text("[" + ",".join(_dumps(r) for r in records) + "]")
    return hf_daily.read_file(path, date(2024, 1, 3))


FORMATS = {
    "snapshot": (_snapshot_record, SNAPSHOT_FIELDS, _write_snapshot, "jsonl"),
    "jsonl": (_tabular_record, TABULAR_FIELDS, _write_jsonl, "jsonl"),
    "csv": (_tabular_record, TABULAR_FIELDS, _write_csv, "csv"),
    "hf-daily": (_hf_record, HF_FIELDS, _write_hf, "json"),
}


def _stored(store, ids):
    return {pid for pid in ids if store.papers.get(pid) is not None}


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_values_in_every_field_of_each_file_format(store, tmp_path, fmt, seed):
    make, fields, write, ext = FORMATS[fmt]
    rng = random.Random(f"{fmt}-{seed}")
    records, good = _records(rng, 120, make, fields)
    items = list(write(tmp_path / f"in.{ext}", records))
    if fmt != "hf-daily":  # one item per line; hf-daily is one document
        assert len(items) == len(records)
    _store_and_check(store, items, good, fmt)


def _store_and_check(store, items, good, source):
    """Every item goes in or is a reject printed on one line; every good record is stored."""
    errors = io.StringIO()
    report = run_ingest(store, items, source, batch_size=16, error_stream=errors, progress=False)
    papers = {i.id for i in items if isinstance(i, Paper)}
    assert {f"2401.{n:05d}" for n in good} <= papers
    assert _stored(store, papers) == papers
    rejects = [i for i in items if isinstance(i, Reject)]
    lines = errors.getvalue().splitlines()
    assert report.rejected == len(rejects) == len(lines) > 0
    assert all(line.startswith("rejected ") and len(line) < 600 for line in lines)
    assert report.exit_code == 3


def _xml_text(value) -> str:
    text = value if isinstance(value, str) else _dumps(value)
    return escape("".join(c for c in text if c in "\t\n\r" or 0x20 <= ord(c) < 0xD800
                          or 0xE000 <= ord(c) < 0xFFFE), {'"': "&quot;"})


def _atom(entries):
    body = "".join(
        f"<entry><id>{e['id']}</id><title>{e['title']}</title><summary>{e['summary']}</summary>"
        f"<author><name>{e['author']}</name></author><published>{e['published']}</published>"
        f"<arxiv:comment>{e['comment']}</arxiv:comment><arxiv:doi>{e['doi']}</arxiv:doi>"
        f"<category term=\"{e['category']}\"/></entry>" for e in entries)
    return (f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"{body}</feed>").encode()


def _oai_page(entries):
    body = "".join(
        f"<record><header><identifier>oai:arXiv.org:{e['id']}</identifier></header><metadata>"
        f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>{e["id"]}</id><title>{e["title"]}</title>'
        f"<abstract>{e['summary']}</abstract><authors><author><keyname>{e['author']}</keyname>"
        f"</author></authors><categories>{e['category']}</categories>"
        f"<created>{e['published']}</created><comments>{e['comment']}</comments>"
        f"<doi>{e['doi']}</doi></arXiv></metadata></record>" for e in entries)
    return (f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>{body}'
            f"</ListRecords></OAI-PMH>").encode()


def _rss(entries):
    body = "".join(
        f"<item><title>{e['title']}</title><guid>oai:arXiv.org:{e['id']}v1</guid>"
        f"<description>arXiv:{e['id']}v1 Announce Type: new Abstract: {e['summary']}</description>"
        f"<category>{e['category']}</category><dc:creator>{e['author']}</dc:creator>"
        f"<dc:rights>{e['doi']}</dc:rights></item>" for e in entries)
    return (f'<rss xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<pubDate>Tue, 01 Oct 2024 00:00:00 -0400</pubDate>{body}</channel></rss>").encode()


def _xml_entry(n):
    return {"id": f"2401.{n:05d}", "title": f"Good paper {n}", "summary": "Abs.",
            "author": "Ada Lovelace", "published": "2024-01-02T00:00:00Z", "comment": "ok",
            "doi": "10.1/x", "category": "cs.LG"}


def _parse_atom(data):
    return arxiv_api.parse_feed(data, "page")[0]


def _parse_oai(data):
    return list(oai.harvest(_OneAnswer(data), "http://oai.invalid/oai", from_date=date(2024, 1, 1)))


class _OneAnswer:
    """The network edge for the OAI harvest: one page, no resumption token."""

    def __init__(self, data):
        self.content = data

    def get(self, url, params=None):
        return self


XML_FORMATS = {"arxiv-api": (_atom, _parse_atom), "oai": (_oai_page, _parse_oai),
               "rss": (_rss, lambda data: rss.parse_feed(data, "RSS"))}


@pytest.mark.parametrize("fmt", list(XML_FORMATS))
@pytest.mark.parametrize("seed", [1, 2])
def test_random_values_in_every_field_of_each_feed(sqlite_store, fmt, seed):
    build, parse = XML_FORMATS[fmt]
    rng = random.Random(f"{fmt}-{seed}")
    entries, good = _records(rng, 90, _xml_entry, list(_xml_entry(0)))
    for e in entries:
        for key, value in e.items():
            e[key] = _xml_text(value)
    items = [i for i in parse(build(entries)) if isinstance(i, (Paper, Reject))]
    assert len(items) == len(entries)
    _store_and_check(sqlite_store, items, good, fmt)
