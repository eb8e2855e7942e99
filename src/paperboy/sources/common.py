"""Small helpers every source uses: dates, whitespace, arXiv links, id keys."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

from paperboy.ids import abs_url, parse_arxiv_id, pdf_url
from paperboy.records import Paper

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


class BadValue(ValueError):
    """A field value a source cannot interpret; the message names the field and value."""


def squash(value: str | None) -> str:
    """Collapse runs of whitespace (titles and abstracts arrive hard-wrapped)."""
    return " ".join(value.split()) if value else ""


def parse_datetime(value: str, field: str = "date") -> datetime:
    """A UTC datetime from ISO 8601 (``2024-10-22T17:59:30.000Z``, ``2024-10-22``) or RFC 2822
    (``Mon, 2 Apr 2007 19:18:42 GMT``); raises BadValue naming ``field`` otherwise."""
    raw = value.strip()
    if not raw:
        raise BadValue(f"empty {field}")
    try:
        if raw[0].isdigit():
            iso = raw[:-1] + "+00:00" if raw.endswith("Z") else raw
            dt = datetime.fromisoformat(iso)
        else:
            dt = _rfc2822(raw)
    except (ValueError, TypeError, IndexError, KeyError):
        raise BadValue(f"unparseable {field} {value!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def _rfc2822(raw: str) -> datetime:
    # Fast path for the exact shape arXiv uses: "Mon, 2 Apr 2007 19:18:42 GMT".
    parts = raw.split()
    if len(parts) == 6 and parts[5] in ("GMT", "UTC", "+0000") and parts[4].count(":") == 2:
        h, m, s = parts[4].split(":")
        return datetime(int(parts[3]), _MONTHS[parts[2]], int(parts[1]), int(h), int(m), int(s))
    dt = parsedate_to_datetime(raw)
    if dt is None:  # pragma: no cover - older Pythons return None
        raise ValueError(raw)
    return dt


def arxiv_paper(arxiv_id: str, **values) -> Paper:
    """A Paper keyed by an arXiv id, with the abs/PDF links filled in when not given."""
    values.setdefault("abs_url", abs_url(arxiv_id))
    values.setdefault("pdf_url", pdf_url(arxiv_id))
    return Paper(id=arxiv_id, **values)


def split_arxiv_id(text: str) -> tuple[str, int | None]:
    parsed = parse_arxiv_id(text)
    if parsed is None:
        raise BadValue(f"not an arXiv id: {text!r}")
    return parsed


_GITHUB_REPO = re.compile(r"(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/"
                          r"([A-Za-z0-9._-]{1,100})", re.I)
_NOT_OWNERS = {"orgs", "sponsors", "topics", "features", "about", "collections", "marketplace"}


def github_repo_in(text: str | None) -> str | None:
    """The first GitHub repository an arXiv comment names ("Code: github.com/a/b."), as
    ``https://github.com/a/b``; None when it names none."""
    if not text or "github" not in text.lower():
        return None
    for owner, repo in _GITHUB_REPO.findall(text):
        repo = repo.rstrip(".")
        if repo.lower().endswith(".git"):
            repo = repo[:-4]
        if repo and owner.lower() not in _NOT_OWNERS:
            return f"https://github.com/{owner}/{repo}"
    return None
