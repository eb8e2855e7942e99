"""The Kaggle arXiv metadata snapshot (``arxiv-metadata-oai-snapshot.json``): JSON lines.

2.7 M records, ~4.5 GB, plain or gzip: read line by line in constant memory. Each line holds
``id``, ``title``, ``abstract``, ``authors`` (one string) and ``authors_parsed`` (entries of
``[last, first]``, ``[last, first, suffix]`` or, in the real file, with a fourth affiliation
element), ``categories`` (space separated, primary first), ``versions`` (``[{"version": "v1",
"created": "Mon, 2 Apr 2007 19:18:42 GMT"}, ...]``), ``comments``, ``journal-ref``, ``doi``,
``license``, ``update_date``. The v1 date becomes ``published``, the last version's ``updated``.

This is the hot path of bulk imports, so the conversion avoids per-record overhead: orjson,
a fast path for arXiv's date format, and no regular expression for new-style ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import orjson

from paperboy.ids import parse_arxiv_id
from paperboy.records import Paper, Reject
from paperboy.sources.common import BadValue, parse_datetime
from paperboy.sources.files import STREAM_ERRORS, capped_lines, damaged, open_binary, too_long
from paperboy.sources.oai import split_author_string
from paperboy.sources.validate import LIMITS, checked

SOURCE = "snapshot"


def _person(entry: Any) -> str:
    """``[last, first(, suffix(, affiliation))]`` -> ``"First Last Suffix"``."""
    if isinstance(entry, str):
        return " ".join(entry.split())
    if not isinstance(entry, (list, tuple)) or not entry:
        return ""
    last = entry[0] or ""
    first = entry[1] if len(entry) > 1 and entry[1] else ""
    suffix = entry[2] if len(entry) > 2 and entry[2] else ""
    name = f"{first} {last}" if first else last
    if suffix:
        name = f"{name} {suffix}"
    if "\n" in name or "  " in name:
        name = " ".join(name.split())
    return name.strip()


def _as_written(name: str, written: str) -> str:
    """The name as the record's own ``authors`` string spells it, where ``authors_parsed`` split
    a hyphenated forename ("C. -P." for "C.-P.", an artefact of the snapshot's parser); the
    parsed form stays for everything else (it has the TeX accents decoded)."""
    if " -" in name:
        joined = name.replace(" -", "-")
        if joined in written and name not in written:
            return joined
    return name


def _key(raw_id: str) -> tuple[str, int | None]:
    # New-style ids without version ("2410.17243") need no regular expression.
    if len(raw_id) in (9, 10) and raw_id[4] == "." and raw_id[:4].isdigit() and raw_id[5:].isdigit():
        return raw_id, None
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise BadValue(f"id {raw_id!r} is not an arXiv id")
    return parsed


def to_paper(obj: Any) -> Paper:
    """One snapshot record as a Paper; raises BadValue naming the problem."""
    if not isinstance(obj, dict):
        raise BadValue("line is not a JSON object")
    raw_id = obj.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise BadValue("missing id")
    arxiv_id, id_version = _key(raw_id.strip())
    title = obj.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadValue("missing title")
    abstract = obj.get("abstract")
    parsed_authors = obj.get("authors_parsed")
    if isinstance(parsed_authors, list) and parsed_authors:
        authors = [n for n in map(_person, parsed_authors) if n]
        written = obj.get("authors")
        if isinstance(written, str) and any(" -" in n for n in authors):
            authors = [_as_written(n, written) for n in authors]
    else:
        authors = split_author_string(obj.get("authors") or "")
    categories_raw = obj.get("categories")
    categories = categories_raw.split() if isinstance(categories_raw, str) else []
    version = id_version
    published = updated = None
    versions = obj.get("versions")
    if isinstance(versions, list) and versions:
        try:
            first, last = versions[0], versions[-1]
            published = parse_datetime(first["created"], "v1 date")
            updated = parse_datetime(last["created"], "latest version date") if last is not first \
                else published
            version = int(str(last["version"]).lstrip("v"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, BadValue):
                raise
            raise BadValue(f"bad versions entry ({exc})") from None
    elif isinstance(obj.get("update_date"), str):
        updated = parse_datetime(obj["update_date"], "update_date")
    return Paper(
        id=arxiv_id,
        title=" ".join(title.split()),
        abstract=" ".join(abstract.split()) if isinstance(abstract, str) else "",
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        version=version,
        published=published,
        updated=updated,
        comments=obj.get("comments") or None,
        journal_ref=obj.get("journal-ref") or None,
        doi=obj.get("doi") or None,
        license=obj.get("license") or None,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
    )


def read_snapshot(path: Path) -> Iterator[Paper | Reject]:
    """Every record of a snapshot file (plain or .gz), rejects naming ``file:line``; any problem
    with one record (of any kind) rejects that record only."""
    path = Path(path)
    lineno = 0
    with open_binary(path) as fh:
        try:
            for lineno, line in capped_lines(fh, LIMITS.line_bytes):
                if line is None:
                    yield Reject(f"{path}:{lineno}", too_long(LIMITS.line_bytes))
                    continue
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    if not line.strip():
                        continue
                    yield Reject(f"{path}:{lineno}", f"bad JSON: {exc}")
                    continue
                yield checked(lambda: to_paper(obj), lambda: _where(path, lineno, obj))
        except STREAM_ERRORS as exc:
            yield Reject(f"{path}:{lineno + 1}", damaged(path, exc))


def _where(path: Path, lineno: int, obj: Any) -> str:
    ident = obj.get("id") if isinstance(obj, dict) else None
    shown = f" ({ident})" if isinstance(ident, str) and len(ident) <= LIMITS.id else ""
    return f"{path}:{lineno}{shown}"
