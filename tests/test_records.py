"""content_hash: the digest stored with every paper must never change for the same content."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from paperboy.records import CONTENT_FIELDS, FIRST_FIELDS, Paper, content_hash


def _reference(values: dict) -> str:
    """The first version's definition: isoformat() datetimes, stdlib compact JSON (of the
    fields it knew: later ones are hashed only when set)."""
    parts = [v.isoformat() if isinstance(v, datetime) else v
             for v in (values.get(name) for name in FIRST_FIELDS)]
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def test_digest_is_the_same_as_the_first_versions():
    papers = [
        Paper(id="2401.00001", title="Ünïcode ☃ title", abstract="x\n\"quoted\" \\ back",
              authors=["Zoë Ä", "B C"], categories=["cs.CL", "cs.LG"],
              published=datetime(2024, 1, 2, 3, 4, 5), updated=datetime(2024, 2, 1, 0, 0, 0, 123456),
              version=3),
        Paper(id="2401.00002", title="T", abstract=""),
    ]
    for p in papers:
        values = {name: getattr(p, name) for name in CONTENT_FIELDS}
        assert content_hash(values) == _reference(values)


def test_digest_changes_with_content():
    a = {name: None for name in CONTENT_FIELDS} | {"title": "A"}
    assert content_hash(a) != content_hash(a | {"title": "B"})
    assert content_hash(a) == content_hash(dict(a))


def test_a_later_field_counts_only_when_set():
    a = {name: None for name in CONTENT_FIELDS} | {"title": "A"}
    assert "code_stars" in CONTENT_FIELDS and "code_stars" not in FIRST_FIELDS
    assert content_hash(a) == _reference(a)  # unset: the digest stored before the field existed
    assert content_hash(a | {"code_stars": 0}) != content_hash(a)
    assert content_hash(a | {"code_stars": 5}) != content_hash(a | {"code_stars": 6})
