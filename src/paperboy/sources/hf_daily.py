"""Hugging Face daily papers (``/api/daily_papers?date=YYYY-MM-DD``) and saved copies of it.

The answer is a JSON list; each item holds the arXiv paper (``paper``: id, title, summary,
authors, ``publishedAt`` = arXiv v1 date, ``upvotes``, and in newer answers ``githubRepo``,
``projectPage``, ``ai_keywords``, ``ai_summary``, ``organization``), plus the daily-list data:
``publishedAt`` (when it was put on the list), ``thumbnail``, ``numComments``, ``submittedBy``
and sometimes ``organization``. The listing date is the day asked for; for a saved file it is
the date in its name (``daily_papers_2024-10-25.json``), else the item's own list date.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

from paperboy.errors import PaperboyError
from paperboy.records import Listing, Paper, Reject
from paperboy.sources.common import BadValue, arxiv_paper, parse_datetime, squash
from paperboy.ids import parse_arxiv_id
from paperboy.sources.files import open_text
from paperboy.sources.http import PoliteClient
from paperboy.sources.validate import LIMITS, checked, problem

SOURCE = "hf"
LISTING_SOURCE = "hf"

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _org(value: Any) -> str | None:
    if isinstance(value, dict):
        return _str(value.get("fullname")) or _str(value.get("name"))
    return _str(value)


def parse_item(item: Any, listed_on: date | None) -> Paper:
    """One daily-papers item as a Paper with its HF listing; raises BadValue when unusable."""
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise BadValue("item has no 'paper' object")
    paper = item["paper"]
    raw_id = _str(paper.get("id"))
    if not raw_id:
        raise BadValue("paper without id")
    parsed = parse_arxiv_id(raw_id)
    if parsed is None:
        raise BadValue(f"paper id {raw_id!r} is not an arXiv id")
    arxiv_id, version = parsed
    title = squash(_str(paper.get("title")) or _str(item.get("title")))
    if not title:
        raise BadValue("missing title")
    listed_at = (parse_datetime(item["publishedAt"], "publishedAt")
                 if _str(item.get("publishedAt")) else None)
    if listed_on is None and listed_at is not None:
        listed_on = listed_at.date()
    published = _str(paper.get("publishedAt"))
    authors = []
    for a in paper.get("authors") or []:
        if isinstance(a, dict) and _str(a.get("name")):
            authors.append(squash(a["name"]))
    submitted = item.get("submittedBy")
    submitter = _str(submitted.get("name")) if isinstance(submitted, dict) else _str(submitted)
    fullname = _str(submitted.get("fullname")) if isinstance(submitted, dict) else None
    organization = _org(item.get("organization")) or _org(paper.get("organization"))
    keywords = paper.get("ai_keywords")
    return arxiv_paper(
        arxiv_id,
        title=title,
        abstract=squash(_str(paper.get("summary"))),
        authors=authors,
        version=version,
        published=parse_datetime(published, "paper.publishedAt") if published else None,
        code_url=_str(paper.get("githubRepo")),
        code_stars=_int(paper.get("githubStars")),
        project_url=_str(paper.get("projectPage")),
        thumbnail_url=_str(item.get("thumbnail")),
        organization=organization,
        ai_keywords=[k for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else [],
        ai_summary=_str(paper.get("ai_summary")),
        listing=Listing(
            source=LISTING_SOURCE,
            listed_on=listed_on,
            upvotes=_int(paper.get("upvotes")),
            comments=_int(item.get("numComments")),
            submitter=submitter,
            organization=organization,
            listed_at=listed_at,
            submitter_fullname=fullname,
        ),
    )


def parse_items(items: Any, listed_on: date | None, location: str) -> Iterator[Paper | Reject]:
    if not isinstance(items, list):
        yield Reject(location, "expected a JSON list of daily papers")
        return
    for n, item in enumerate(items, 1):
        yield checked(lambda: parse_item(item, listed_on), lambda: _where(location, n, item))


def _where(location: str, n: int, item: Any) -> str:
    paper = item.get("paper") if isinstance(item, dict) else None
    ident = paper.get("id") if isinstance(paper, dict) else None
    shown = f" ({ident})" if isinstance(ident, str) and len(ident) <= LIMITS.id else ""
    return f"{location} item {n}{shown}"


def read_file(path: Path, listed_on: date | None = None) -> Iterator[Paper | Reject]:
    """A saved ``daily_papers`` JSON answer; the listing date comes from the name if not given."""
    if listed_on is None:
        m = _DATE_IN_NAME.search(path.name)
        if m:
            try:
                listed_on = date.fromisoformat(m.group(1))
            except ValueError:
                listed_on = None
    with open_text(path) as fh:
        raw = fh.read(LIMITS.document_bytes + 1)
    if len(raw) > LIMITS.document_bytes:
        raise PaperboyError(f"{path}: larger than {LIMITS.document_bytes:,} characters; "
                            "a daily-papers file is a few megabytes at most")
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        if raw.lstrip().startswith("{") and exc.msg == "Extra data":
            # One daily-papers item per line (JSON lines) rather than one list.
            yield from _read_lines(raw, listed_on, path)
            return
        yield Reject(f"{path}:{exc.lineno}", f"bad JSON: {exc.msg} (column {exc.colno})")
        return
    except RecursionError:
        # Some item nests deeper than the parser goes: read the list item by item instead.
        yield from _read_items_one_by_one(raw, listed_on, path)
        return
    except ValueError as exc:
        yield Reject(str(path), f"bad JSON: {problem(exc)}")
        return
    if isinstance(items, dict) and isinstance(items.get("paper"), dict):
        items = [items]
    yield from parse_items(items, listed_on, str(path))


def _read_items_one_by_one(raw: str, listed_on: date | None, path: Path
                           ) -> Iterator[Paper | Reject]:
    if not raw.lstrip().startswith("["):
        yield Reject(str(path), "bad JSON: nested too deeply")
        return
    for n, chunk in enumerate(_top_level_items(raw), 1):
        yield checked(lambda: parse_item(json.loads(chunk), listed_on), f"{path} item {n}")


def _top_level_items(raw: str) -> Iterator[str]:
    """The text of each element of the JSON list ``raw``, found by tracking brackets and strings
    (no recursion, so any depth is fine); a damaged tail ends the list."""
    depth, start, in_string, escaped = 0, None, False, False
    for i, c in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth == 1:
                start = i + 1
                continue
        elif c in "]}":
            depth -= 1
        if depth == 1 and c == "," or depth == 0 and c == "]":
            if start is not None and raw[start:i].strip():
                yield raw[start:i]
            start = i + 1
            if depth == 0:
                return


def _read_lines(raw: str, listed_on: date | None, path: Path) -> Iterator[Paper | Reject]:
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        location = f"{path}:{lineno}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Reject(location, f"bad JSON: {exc.msg}")
            continue
        except (RecursionError, ValueError) as exc:
            yield Reject(location, f"bad JSON: {problem(exc)}")
            continue
        yield checked(lambda: parse_item(item, listed_on), location)


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def fetch(client: PoliteClient, base_url: str, days: Iterable[date]) -> Iterator[Paper | Reject]:
    """The daily papers of each day."""
    for day in days:
        url = f"{base_url.rstrip('/')}/api/daily_papers"
        response = client.get(url, params={"date": day.isoformat()})
        location = f"HF daily papers {day.isoformat()}"
        try:
            items = response.json()
        except (ValueError, RecursionError) as exc:
            yield Reject(location, f"bad JSON: {problem(exc)}")
            continue
        yield from parse_items(items, day, location)
