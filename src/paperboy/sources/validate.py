"""The limits every record respects before the store sees it, and the guard every reader uses.

A reader builds a :class:`~paperboy.records.Paper` from whatever the source holds; the input is
untrusted (a list where text belongs, a version of twenty digits, a 300 MB abstract, a NUL
byte), so every reader builds each record through :func:`checked`. It turns *any* failure into a
one-line :class:`~paperboy.records.Reject` naming where the record was, and checks the record's
types and sizes against :data:`LIMITS`, so one bad record never stops an import and a value
never reaches the database that SQLite and PostgreSQL would treat differently (PostgreSQL
refuses text over a column's length and NUL bytes; SQLite takes both).

Validation only checks: it never rewrites a value (names, titles stay exactly as built).
The limits are documented in the README ("Record limits"); the storage tests check that each
one fits its column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from paperboy.records import Listing, Paper, Reject
from paperboy.sources.common import BadValue

#: Largest 32-bit signed integer: PostgreSQL INTEGER columns (counts, versions).
_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Limits:
    """Sizes in characters (lists: entries) a record may have; beyond them it is rejected."""

    id: int = 64
    title: int = 2_000
    abstract: int = 50_000
    authors: int = 10_000
    author_name: int = 1_000
    categories: int = 100
    category: int = 32
    comments: int = 10_000
    journal_ref: int = 2_000
    doi: int = 255
    license: int = 255
    url: int = 512
    organization: int = 255
    ai_keywords: int = 200
    ai_keyword: int = 200
    ai_summary: int = 10_000
    version: int = 100_000
    listing_source: int = 32
    submitter: int = 255
    announce_type: int = 32
    #: Bytes of one input line (JSON lines, CSV) or one whole-document answer.
    line_bytes: int = 4 * 1024 * 1024
    document_bytes: int = 64 * 1024 * 1024


LIMITS = Limits()

_URL_FIELDS = ("abs_url", "pdf_url", "code_url", "project_url", "thumbnail_url")
_TEXT_FIELDS = (("comments", LIMITS.comments), ("journal_ref", LIMITS.journal_ref),
                ("doi", LIMITS.doi), ("license", LIMITS.license),
                ("organization", LIMITS.organization), ("ai_summary", LIMITS.ai_summary),
                ("primary_category", LIMITS.category)) + tuple(
                    (name, LIMITS.url) for name in _URL_FIELDS)


def _text(field: str, value, limit: int, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise BadValue(f"missing {field}")
        return
    if type(value) is not str:
        raise BadValue(f"{field}: expected text, got {_kind(value)}")
    if len(value) > limit:
        raise BadValue(f"{field} is {len(value):,} characters long; the limit is {limit:,}")
    if "\x00" in value:
        raise BadValue(f"{field} contains a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadValue(f"{field} contains text that is not valid Unicode") from None


def _texts(field: str, values, count: int, limit: int) -> None:
    if type(values) is not list:
        raise BadValue(f"{field}: expected a list, got {_kind(values)}")
    if len(values) > count:
        raise BadValue(f"{field}: {len(values):,} entries; the limit is {count:,}")
    for value in values:
        _text(f"{field} entry", value, limit, required=True)


def _int(field: str, value, low: int, high: int) -> None:
    if value is None:
        return
    if type(value) is not int:
        raise BadValue(f"{field}: expected a whole number, got {_kind(value)}")
    if not low <= value <= high:
        raise BadValue(f"{field} {value} is outside {low}..{high:,}")


def _when(field: str, value, kind: type) -> None:
    if value is not None and not isinstance(value, kind):
        raise BadValue(f"{field}: expected a date, got {_kind(value)}")


def _kind(value) -> str:
    return "nothing" if value is None else type(value).__name__


def check_paper(paper: Paper) -> Paper:
    """``paper`` itself when every field has the right type and size; raises BadValue else."""
    _text("id", paper.id, LIMITS.id, required=True)
    if not paper.id.strip():
        raise BadValue("missing id")
    _text("title", paper.title, LIMITS.title, required=True)
    if not paper.title.strip():
        raise BadValue("missing title")
    _text("abstract", paper.abstract, LIMITS.abstract, required=True)
    _texts("authors", paper.authors, LIMITS.authors, LIMITS.author_name)
    _texts("categories", paper.categories, LIMITS.categories, LIMITS.category)
    _texts("ai_keywords", paper.ai_keywords, LIMITS.ai_keywords, LIMITS.ai_keyword)
    for name, limit in _TEXT_FIELDS:
        _text(name, getattr(paper, name), limit)
    _int("version", paper.version, 1, LIMITS.version)
    _when("published", paper.published, datetime)
    _when("updated", paper.updated, datetime)
    if type(paper.published_approx) is not bool:
        raise BadValue(f"published_approx: expected true or false, got "
                       f"{_kind(paper.published_approx)}")
    _int("code_stars", paper.code_stars, 0, _INT_MAX)
    if paper.listing is not None:
        _check_listing(paper.listing)
    return paper


def _check_listing(listing: Listing) -> None:
    if type(listing) is not Listing:
        raise BadValue(f"listing: expected a Listing, got {_kind(listing)}")
    _text("listing source", listing.source, LIMITS.listing_source, required=True)
    _when("listing date", listing.listed_on, date)
    _when("listed_at", listing.listed_at, datetime)
    _int("upvotes", listing.upvotes, 0, _INT_MAX)
    _int("comment count", listing.comments, 0, _INT_MAX)
    _text("submitter", listing.submitter, LIMITS.submitter)
    _text("submitter_fullname", listing.submitter_fullname, LIMITS.submitter)
    _text("listing organization", listing.organization, LIMITS.organization)
    _text("announce type", listing.announce_type, LIMITS.announce_type)


def checked(build: Callable[[], Paper | None], where: str | Callable[[], str]
            ) -> Paper | Reject | None:
    """The record ``build()`` makes, checked against the limits; any failure of any kind becomes
    a Reject at ``where`` (a string, or a function giving one, called only on failure).
    ``None`` (e.g. a deleted OAI record) passes through."""
    try:
        paper = build()
        return None if paper is None else check_paper(paper)
    except Exception as exc:  # noqa: BLE001 - a record must never stop the import
        return Reject(where() if callable(where) else where, problem(exc))


def problem(exc: BaseException) -> str:
    """One line saying what was wrong: the message of a BadValue, else the error's kind."""
    if isinstance(exc, BadValue):
        text = str(exc)
    elif isinstance(exc, RecursionError):
        text = "nested too deeply"
    else:
        detail = " ".join(str(exc).split())
        text = f"unusable record ({type(exc).__name__}{': ' + detail if detail else ''})"
    return text if len(text) <= 300 else text[:297] + "..."
