"""Parsing of user-supplied query parameters into domain values, with one-line 422 messages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from paperboy.ids import normalize_paper_id
from paperboy.query import SearchFilters
from paperboy.storage.feeds import SORTS, Period
from paperboy.web.errors import BadInput

MAX_QUERY = 2000
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$", re.I)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_CAT_RE = re.compile(r"^[A-Za-z][A-Za-z\-]*(\.[A-Za-z\-]+)?$")


def clean(text: str | None, name: str = "q", max_len: int = MAX_QUERY) -> str:
    """Strip control characters (NUL breaks PostgreSQL) and refuse absurd lengths."""
    if text is None:
        return ""
    if len(text) > max_len:
        raise BadInput(f"{name}: too long ({len(text)} characters, at most {max_len})")
    return "".join(ch if ch.isprintable() or ch in "\t\n" else " " for ch in text).strip()


MIN_YEAR, MAX_YEAR = 1900, 2999


def _check_year(year: int, name: str, value: str) -> None:
    if not (MIN_YEAR <= year <= MAX_YEAR):
        raise BadInput(f"{name}: {value[:40]!r} is out of range (years {MIN_YEAR}-{MAX_YEAR})")


def parse_date(value: str, name: str = "date") -> date:
    try:
        day = date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise BadInput(f"{name}: expected a date like 2024-10-25, got {value[:40]!r}") from None
    _check_year(day.year, name, value)
    return day


def parse_week(value: str) -> Period:
    m = _WEEK_RE.match(value.strip())
    if not m:
        raise BadInput(f"week: expected an ISO week like 2024-W43, got {value[:40]!r}")
    _check_year(int(m.group(1)), "week", value)
    try:
        start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise BadInput(f"week: {value[:40]!r} is not a week of that year") from None
    return Period(start, start + timedelta(days=7), "week")


def parse_month(value: str) -> Period:
    m = _MONTH_RE.match(value.strip())
    if not m:
        raise BadInput(f"month: expected a month like 2024-10, got {value[:40]!r}")
    year, month = int(m.group(1)), int(m.group(2))
    _check_year(year, "month", value)
    if not (1 <= month <= 12) or year < 1:
        raise BadInput(f"month: {value[:40]!r} is not a month")
    return Period.month_of(date(year, month, 1))


def parse_period(date_: str | None, week: str | None, month: str | None) -> Period | None:
    """The period the user asked for, or None for "the latest day"."""
    given = [n for n, v in (("date", date_), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadInput(f"give only one of date, week or month (got {', '.join(given)})")
    if date_:
        return Period.day(parse_date(date_))
    if week:
        return parse_week(week)
    if month:
        return parse_month(month)
    return None


def parse_sort(value: str | None, default: str = "trending") -> str:
    if not value:
        return default
    aliases = {"publishedAt": "newest", "published": "newest", "new": "newest",
               "top": "upvotes", "votes": "upvotes"}
    value = aliases.get(value, value)
    if value not in SORTS:
        raise BadInput(f"sort: expected one of {', '.join(SORTS)}, got {value[:40]!r}")
    return value


def parse_paper_id(raw: str) -> str | None:
    raw = raw.strip()
    if not raw or len(raw) > 200:
        return None
    return normalize_paper_id(raw)


def parse_category(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if len(value) > 32 or not _CAT_RE.match(value):
        raise BadInput(f"category: expected an arXiv category like cs.CL, got {value[:40]!r}")
    return value


def search_filters(since: str | None, until: str | None, category: str | None,
                   author: str | None, listed: bool = False,
                   with_code: bool = False) -> SearchFilters:
    filters = SearchFilters(listed_only=listed, with_code=with_code)
    if since:
        filters.since = parse_date(since, "since")
    if until:
        filters.until = parse_date(until, "until")
    if filters.since and filters.until and filters.since > filters.until:
        raise BadInput("since: must not be after until")
    cat = parse_category(category)
    if cat:
        filters.categories = [cat]
    author = clean(author, "author", 200)
    if author:
        filters.authors = [author]
    return filters
