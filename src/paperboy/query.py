"""The search contract: queries, filters and results, below every layer.

The store filters by :class:`SearchFilters`, the mailer runs saved searches, the web app and the
CLI show results: all of them program against these types, so none needs the search package
itself. Search answers with paper ids, scores and explanations; the caller reads the papers it
shows. The
implementation lives in :mod:`paperboy.search.service` (``SearchService``), built once per
process by the app factory / CLI and handed to whoever needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

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


@dataclass
class SearchResults:
    hits: list[Hit]
    #: ``matched`` + ``related``: the hits there are before limit/offset (a lower bound when
    #: ``related_more``)
    total: int
    mode: Mode = "hybrid"
    #: terms to highlight in titles/abstracts
    highlight_terms: list[str] = field(default_factory=list)
    #: a one-line note for the user (e.g. "only stop-words; showing newest papers")
    message: str | None = None
    #: papers with (some of) the words, exact; None when the search did not use words
    matched: int | None = None
    #: papers without the words among the hits' candidates that are close in meaning
    related: int = 0
    #: more papers close in meaning may exist beyond those counted in ``related``
    related_more: bool = False


def describe_counts(results) -> str:
    """What a search found, said honestly: "12 papers match the words, and 3 related by
    meaning" (papers without the words are counted apart). ``results``: anything with
    ``total``, ``matched``, ``related`` and ``related_more`` (:class:`SearchResults`)."""
    plural = lambda n: "paper" if n == 1 else "papers"  # noqa: E731
    more = "+" if results.related_more else ""
    if results.matched is None and not results.related:  # filters only, or title matches
        return f"{results.total} {plural(results.total)}"
    if results.matched is None:
        return f"{results.related}{more} {plural(results.related)} related by meaning"
    verb = "matches" if results.matched == 1 else "match"
    text = f"{results.matched} {plural(results.matched)} {verb} the words"
    if results.related:
        text += f", and {results.related}{more} related by meaning"
    return text


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

