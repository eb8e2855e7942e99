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
    listing: Listing | None = None

    def stored_fields(self) -> dict:
        """Column values for the papers table (everything but provenance)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "listing"}


#: Fields compared to decide whether a stored paper changed; order matters for the hash.
CONTENT_FIELDS = tuple(f.name for f in fields(Paper) if f.name not in ("id", "listing"))


def content_hash(values: dict) -> str:
    """A stable digest of a paper's content, so re-imports can report 'unchanged' cheaply:
    compact JSON of the content fields in order, datetimes as ``isoformat()``."""
    return hashlib.blake2b(orjson.dumps([values.get(name) for name in CONTENT_FIELDS]),
                           digest_size=16).hexdigest()


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
