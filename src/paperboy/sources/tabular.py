"""Generic CSV and JSON-lines files, with a field mapping.

``--map title=title,abstract=summary,authors=author_list`` maps Paperboy fields (left) to the
file's columns / keys (right). Without a mapping, common column names are recognised (``id``,
``_id``, ``index``, ``arxiv_id``; ``abstract``, ``summary``, ``text``; ``tags`` for categories; ...),
so BEIR ``corpus.jsonl`` (``_id``, ``title``, ``text``) and the arXiv CSV exports work as they are.

List-valued columns may hold JSON lists, Python list literals (``['math.ST', 'stat.ML']``, read
with :func:`ast.literal_eval`, which evaluates literals only, never code) or plain separated
text. Ids that look like arXiv ids become arXiv keys; other ids are kept under a prefix given
with ``--id-prefix`` (``s2`` -> ``s2:4983``) or one the id already carries (``doi:10.1/x``).
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from paperboy.errors import PaperboyError
from paperboy.ids import abs_url, is_prefixed_id, parse_arxiv_id, pdf_url
from paperboy.records import Paper, Reject
from paperboy.sources.common import BadValue, parse_datetime, squash
from paperboy.sources.files import (
    STREAM_ERRORS,
    CappedText,
    LineTooLong,
    capped_lines,
    damaged,
    open_binary,
    open_text,
    too_long,
)
from paperboy.sources.oai import split_author_string
from paperboy.sources.validate import LIMITS, checked, problem

#: Fields a mapping may fill, and the column names recognised for them without a mapping.
FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "arxiv_id", "paper_id", "index", "doc_id", "identifier"),
    "title": ("title",),
    "abstract": ("abstract", "summary", "text", "description"),
    "authors": ("authors", "author", "creators"),
    "categories": ("categories", "tags", "category"),
    "primary_category": ("primary_category",),
    "published": ("published", "date", "published_date", "submitted", "created"),
    "updated": ("updated", "update_date", "updated_date"),
    "version": ("version",),
    "comments": ("comments", "comment"),
    "journal_ref": ("journal_ref", "journal-ref"),
    "doi": ("doi",),
    "license": ("license",),
    "abs_url": ("url", "abs_url", "link"),
    "pdf_url": ("pdf_url", "pdf"),
    "code_url": ("code_url", "github", "githubRepo"),
    "code_stars": ("code_stars", "githubStars", "stars"),
    "project_url": ("project_url", "projectPage"),
    "organization": ("organization",),
}
_LIST_FIELDS = ("authors", "categories")
#: Longest list literal we agree to evaluate (literal_eval on huge input is slow).
_MAX_LITERAL = 200_000


def parse_mapping(spec: str | None) -> dict[str, str]:
    """``"title=title,abstract=summary"`` -> {"title": "title", "abstract": "summary"}."""
    mapping: dict[str, str] = {}
    if not spec:
        return mapping
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise PaperboyError(f"--map entry {part!r} must look like field=column")
        target, column = (s.strip() for s in part.split("=", 1))
        if target not in FIELDS:
            raise PaperboyError(
                f"--map: unknown field {target!r} (known: {', '.join(FIELDS)})")
        if not column:
            raise PaperboyError(f"--map: no column given for {target!r}")
        mapping[target] = column
    return mapping


def resolve_mapping(columns: list[str], explicit: Mapping[str, str]) -> dict[str, str]:
    """The explicit mapping, completed with recognised column names for unmapped fields."""
    present = {c.lower(): c for c in columns}
    mapping = dict(explicit)
    used = set(mapping.values())
    for target, names in FIELDS.items():
        if target in mapping:
            continue
        for name in names:
            col = present.get(name.lower())
            if col is not None and col not in used:
                mapping[target] = col
                used.add(col)
                break
    return mapping


def as_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [squash(str(v)) for v in value if v is not None and str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text[0] == "[" and text[-1] == "]":
        if len(text) > _MAX_LITERAL:
            raise BadValue(f"{field}: list too long")
        try:
            parsed = json.loads(text)
        except ValueError:
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise BadValue(f"{field}: unreadable list {text[:60]!r}") from None
        if not isinstance(parsed, (list, tuple)):
            raise BadValue(f"{field}: not a list")
        return [squash(str(v)) for v in parsed if v is not None and str(v).strip()]
    if field == "authors":
        if ";" in text:
            return [squash(p) for p in text.split(";") if p.strip()]
        return split_author_string(text)
    return [p for p in text.replace(",", " ").replace(";", " ").split() if p]


def make_key(raw: Any, id_prefix: str | None) -> tuple[str, int | None]:
    """The storage key (and arXiv version) for a record's id."""
    if raw is None or str(raw).strip() == "":
        raise BadValue("missing id (map a column with --map id=COLUMN)")
    text = str(raw).strip()
    parsed = parse_arxiv_id(text)
    if parsed is not None:
        return parsed
    if id_prefix:
        return f"{id_prefix}:{text}", None
    if is_prefixed_id(text):
        return text, None
    raise BadValue(f"id {text!r} is not an arXiv id; give --id-prefix to keep it as PREFIX:{text}")


def to_paper(row: Mapping[str, Any], mapping: Mapping[str, str], id_prefix: str | None) -> Paper:
    def get(target: str) -> Any:
        column = mapping.get(target)
        return row.get(column) if column is not None else None

    key, version = make_key(get("id"), id_prefix)
    title = squash(str(get("title") or ""))
    if not title:
        raise BadValue("missing title")
    values: dict[str, Any] = {"title": title, "abstract": squash(str(get("abstract") or ""))}
    for name in _LIST_FIELDS:
        values[name] = as_list(get(name), name)
    for name in ("published", "updated"):
        raw = get(name)
        if raw not in (None, ""):
            values[name] = parse_datetime(str(raw), name)
    raw_version = get("version")
    if raw_version not in (None, ""):
        try:
            version = int(str(raw_version).lstrip("v"))
        except ValueError:
            raise BadValue(f"unparseable version {raw_version!r}") from None
    values["version"] = version
    raw_stars = get("code_stars")
    if raw_stars not in (None, ""):
        try:
            values["code_stars"] = int(str(raw_stars))
        except ValueError:
            raise BadValue(f"unparseable code_stars {raw_stars!r} (expected a number)") from None
    for name in ("primary_category", "comments", "journal_ref", "doi", "license", "abs_url",
                 "pdf_url", "code_url", "project_url", "organization"):
        raw = get(name)
        if raw not in (None, ""):
            values[name] = squash(str(raw))
    if not values.get("primary_category") and values["categories"]:
        values["primary_category"] = values["categories"][0]
    if ":" not in key:  # an arXiv paper: links are known
        values.setdefault("abs_url", abs_url(key))
        values.setdefault("pdf_url", pdf_url(key))
    return Paper(id=key, **values)


def _rows_to_papers(rows: Iterator[tuple[str, Any]], make: Callable[[Any], Paper]
                    ) -> Iterator[Paper | Reject]:
    for where, row in rows:
        if isinstance(row, Reject):
            yield row
            continue
        yield checked(lambda: make(row), where)


def read_csv(path: Path, mapping: Mapping[str, str] | None = None,
             id_prefix: str | None = None) -> Iterator[Paper | Reject]:
    """Rows of a CSV file with a header line (``,`` or tab separated, chosen by extension)."""
    path = Path(path)
    csv.field_size_limit(LIMITS.line_bytes)
    with open_text(path) as fh:
        delimiter = "\t" if path.name.removesuffix(".gz").endswith((".tsv", ".tab")) else ","
        lines = CappedText(fh, LIMITS.line_bytes)
        reader = csv.DictReader(lines, delimiter=delimiter)
        try:
            columns = reader.fieldnames or []
        except (csv.Error, LineTooLong) as exc:
            raise PaperboyError(f"{path}: not a readable CSV file ({exc})") from None
        if not columns:
            return
        missing = [c for c in (mapping or {}).values() if c not in columns]
        if missing:
            raise PaperboyError(
                f"{path}: --map names column(s) {', '.join(missing)} not in the header "
                f"({', '.join(columns)})")
        resolved = resolve_mapping(list(columns), mapping or {})
        _check_mapping(path, resolved, columns)

        def rows():
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except LineTooLong as exc:
                    yield "", Reject(f"{path}:{exc.args[0]}", too_long(LIMITS.line_bytes))
                    continue
                except csv.Error as exc:
                    yield "", Reject(f"{path}:{lines.lineno}", f"bad CSV: {exc}")
                    continue
                except STREAM_ERRORS as exc:
                    yield "", Reject(f"{path}:{lines.lineno + 1}", damaged(path, exc))
                    return
                yield f"{path}:{lines.lineno}", row

        yield from _rows_to_papers(rows(), lambda row: to_paper(row, resolved, id_prefix))


def read_jsonl(path: Path, mapping: Mapping[str, str] | None = None,
               id_prefix: str | None = None) -> Iterator[Paper | Reject]:
    """One JSON object per line. Each object's keys are mapped on their own (a key the first
    line lacks still counts on the others); the first object must name an id and a title."""
    path = Path(path)
    explicit = dict(mapping or {})
    mappings: dict[tuple, dict[str, str]] = {}

    def rows():
        lineno = 0
        with open_binary(path) as fh:
            try:
                for lineno, line in capped_lines(fh, LIMITS.line_bytes):
                    if line is None:
                        yield "", Reject(f"{path}:{lineno}", too_long(LIMITS.line_bytes))
                        continue
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except Exception as exc:  # noqa: BLE001 - bad JSON, too deep, bad UTF-8
                        yield "", Reject(f"{path}:{lineno}", f"bad JSON: {problem(exc)}")
                        continue
                    if not isinstance(obj, dict):
                        yield "", Reject(f"{path}:{lineno}", "line is not a JSON object")
                        continue
                    yield f"{path}:{lineno}", obj
            except STREAM_ERRORS as exc:
                yield "", Reject(f"{path}:{lineno + 1}", damaged(path, exc))

    def make(obj):
        keys = tuple(obj)
        resolved = mappings.get(keys)
        if resolved is None:
            resolved = resolve_mapping(list(keys), explicit)
            if len(mappings) < 1000:  # files have few key sets; do not grow without bound
                mappings[keys] = resolved
        return to_paper(obj, resolved, id_prefix)

    checked_first = False
    for where, row in rows():
        if not checked_first and not isinstance(row, Reject):
            checked_first = True  # a file whose first record has no id/title column: say so
            _check_mapping(path, resolve_mapping(list(row), explicit), list(row))
        yield row if isinstance(row, Reject) else checked(lambda: make(row), where)


def _check_mapping(path: Path, mapping: Mapping[str, str], columns) -> None:
    if "title" not in mapping:
        raise PaperboyError(
            f"{path}: no title column among {', '.join(map(str, columns))}; "
            "say which with --map title=COLUMN")
    if "id" not in mapping:
        raise PaperboyError(
            f"{path}: no id column among {', '.join(map(str, columns))}; "
            "say which with --map id=COLUMN")
