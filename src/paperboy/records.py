"""The normalized records every source yields and the pipeline stores.

Sources differ wildly (Atom, OAI-PMH XML, RSS, Hugging Face JSON, the Kaggle snapshot, CSV); the
rest of Paperboy only ever sees these dataclasses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import date, datetime

import orjson


@dataclass(slots=True)
class Listing:
    """Where and when a source listed a paper (provenance), e.g. a day of Hugging Face papers."""

    source: str
    listed_on: date | None = None
    upvotes: int | None = None
    comments: int | None = None
    submitter: str | None = None
    organization: str | None = None
    announce_type: str | None = None
    #: when the source listed it (Hugging Face's item ``publishedAt``), UTC
    listed_at: datetime | None = None
    submitter_fullname: str | None = None


@dataclass(slots=True)
class Paper:
    """A paper as Paperboy knows it, keyed by arXiv id without version or `prefix:id`."""

    id: str
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    version: int | None = None
    published: datetime | None = None
    updated: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    thumbnail_url: str | None = None
    organization: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    ai_summary: str | None = None
    #: ``published`` is only the month the arXiv id carries (the source gave no date)
    published_approx: bool = False
    #: GitHub stars of ``code_url`` as the source last reported them (Hugging Face's githubStars)
    code_stars: int | None = None
    listing: Listing | None = None

    def stored_fields(self) -> dict:
        """Column values for the papers table (everything but provenance)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "listing"}


#: Fields compared to decide whether a stored paper changed; order matters for the hash.
#: ``published_approx`` follows from ``published`` and the id, so it stays out of the hash.
CONTENT_FIELDS = tuple(f.name for f in fields(Paper)
                       if f.name not in ("id", "listing", "published_approx"))
#: Every column of a paper the store keeps.
STORED_FIELDS = ("id", *CONTENT_FIELDS, "published_approx")
#: Fields added after the first stores were written: hashed only when set, so every digest
#: stored before them stays valid (no paper reads as "updated" just because the code grew).
LATER_FIELDS = ("code_stars",)
FIRST_FIELDS = tuple(name for name in CONTENT_FIELDS if name not in LATER_FIELDS)


def content_hash(values: dict) -> str:
    """A stable digest of a paper's content, so re-imports can report 'unchanged' cheaply:
    compact JSON of the content fields in order, datetimes as ``isoformat()``; then
    ``[name, value]`` for each later field that is set."""
    parts = [values.get(name) for name in FIRST_FIELDS]
    parts += [[name, values[name]] for name in LATER_FIELDS if values.get(name) is not None]
    return hashlib.blake2b(orjson.dumps(parts), digest_size=16).hexdigest()


@dataclass(slots=True)
class Reject:
    """A record a source could not use: where it was and what was wrong."""

    location: str
    problem: str

    def __str__(self) -> str:
        return f"{self.location}: {self.problem}"


@dataclass(slots=True)
class Checkpoint:
    """Source state (e.g. an OAI resumption cursor) to persist once every record yielded
    before it is stored."""

    key: str
    value: str
