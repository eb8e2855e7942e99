"""arXiv identifiers: recognise them in any form sources use and split off the version."""

from __future__ import annotations

import re
from datetime import date

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_RE = re.compile(
    rf"^(?:arxiv:|oai:arxiv\.org:)?"
    rf"(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)?"
    rf"(?P<id>{_NEW}|{_OLD})(?:v(?P<version>\d+))?(?:\.pdf)?/?$",
    re.IGNORECASE,
)
_PREFIXED_RE = re.compile(r"^[a-z][a-z0-9_\-]*:\S+$")


def parse_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """Return (id without version, version or None) for an arXiv id or URL, else None.

    Accepts ``2410.17243``, ``2410.17243v2``, ``arXiv:2410.17243``, ``hep-th/9901001v1``,
    ``oai:arXiv.org:2410.17243`` and abs/pdf URLs.
    """
    m = _ARXIV_RE.match(text.strip())
    if not m:
        return None
    raw = m.group("id")
    # Old-style archive names are lower case; the optional subject class (math.GT) is upper.
    if "/" in raw:
        archive, number = raw.split("/", 1)
        if "." in archive:
            a, sub = archive.split(".", 1)
            archive = f"{a.lower()}.{sub.upper()}"
        else:
            archive = archive.lower()
        raw = f"{archive}/{number}"
    version = int(m.group("version")) if m.group("version") else None
    return raw, version


def is_prefixed_id(text: str) -> bool:
    """True for ids kept under a source prefix, such as ``s2:31715818`` or ``doi:10.1/x``."""
    return bool(_PREFIXED_RE.match(text)) and parse_arxiv_id(text) is None


def normalize_paper_id(text: str) -> str | None:
    """The storage key for a user-supplied id: a bare arXiv id, a prefixed id, or None."""
    text = text.strip()
    parsed = parse_arxiv_id(text)
    if parsed:
        return parsed[0]
    if is_prefixed_id(text):
        return text
    return None


_MONTH_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})$")


def month_of(arxiv_id: str) -> date | None:
    """The first day of the month an arXiv id was assigned: new-style ids start with YYMM
    (``2505.11213``: May 2025, from 0704 on), old-style ones with it after the archive
    (``hep-th/9901001``: January 1999). None for other ids."""
    if not _MONTH_RE.match(arxiv_id):
        return None
    digits = arxiv_id.rsplit("/", 1)[-1]
    yy, mm = int(digits[:2]), int(digits[2:4])
    if not 1 <= mm <= 12:
        return None
    year = 1900 + yy if "/" in arxiv_id and yy >= 91 else 2000 + yy
    return date(year, mm, 1)


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
