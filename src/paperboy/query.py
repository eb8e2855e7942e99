"""The search contract: queries, filters and results, below every layer.

The store filters by :class:`SearchFilters`, the mailer runs saved searches, the web app and the
CLI show results: all of them program against these types, so none needs the search package
itself. Search works on ids and scores; papers are hydrated from the store at the end. The
implementation lives in :mod:`paperboy.search.service` (``SearchService``), built once per
process by the app factory / CLI and handed to whoever needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from paperboy.records import Paper

Mode = Literal["hybrid", "lexical", "dense"]


class QueryError(ValueError):
    """A query Paperboy cannot run; the message is one line meant for the user."""


@dataclass
class SearchFilters:
    """Restrictions applied as masks on the candidate sets (not as post-filters on top k)."""

    since: date | None = None
    until: date | None = None
    categories: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    listed_only: bool = False  # only papers that appeared in a daily listing
    with_code: bool = False  # only papers with a code link

    def is_empty(self) -> bool:
        return not (self.since or self.until or self.categories or self.authors or self.listed_only
                    or self.with_code)


@dataclass
class Hit:
    id: str
    score: float
    #: why this paper ranks here: matched terms, dense similarity, rank in each list, ...
    explanation: dict = field(default_factory=dict)
    paper: Paper | None = None


@dataclass
class SearchResults:
    hits: list[Hit]
    #: number of matches before limit/offset where known (else a lower bound)
    total: int
    mode: Mode = "hybrid"
    #: terms to highlight in titles/abstracts
    highlight_terms: list[str] = field(default_factory=list)
    #: a one-line note for the user (e.g. "only stop-words; showing newest papers")
    message: str | None = None


class Searcher(Protocol):
    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        mode: Mode = "hybrid",
        explain: bool = True,
    ) -> SearchResults: ...

    def similar(
        self, paper_id: str, k: int = 10, since: date | None = None, until: date | None = None
    ) -> list[Hit]: ...

