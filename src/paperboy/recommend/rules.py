"""Follows and keyword rules, applied on top of a reader's model.

A rule is ``include: graph neural`` or ``exclude: survey``, its text in the search syntax
(:func:`paperboy.search.query.parse_query`): words (all must appear, a plural counts), quoted
phrases, ``author:`` and ``cat:`` filters. An exclude removes a paper whatever its score; an
include, like a follow of an author / organization / category, makes sure the paper is shown.
Matching works on a paper's title + abstract words, folded author names and categories, in
memory (the candidates of a period are already loaded).

The query parser is the search box's (``paperboy.search.query.parse_query``); search is a
sibling layer, so whoever builds the service hands it in (:data:`QueryParser`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Sequence

from paperboy.errors import PaperboyError
from paperboy.query import QueryError
from paperboy.storage.papers import name_key
from paperboy.storage.signals import RULE_ACTIONS, Follow, Rule

MAX_RULE_CHARS = 200
_WORD = re.compile(r"\w+", re.UNICODE)
#: text -> parsed query with ``terms``, ``phrases`` (word lists) and ``filters.authors`` /
#: ``filters.categories``; raises QueryError for a query the user must fix
QueryParser = Callable[[str], Any]
_RULE_LINE = re.compile(r"^\s*(include|exclude|\+|-)\s*:?\s*(.*)$", re.I | re.S)


class RuleError(PaperboyError):
    """A rule that cannot be used; the message says why, in one line."""


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def parse_rule(line: str, parse_query: QueryParser, action: str | None = None) -> tuple[str, str]:
    """(action, query) from ``include: words`` / ``exclude: words`` (or ``action`` given apart).
    Empty, over-long, control-character or filter-only-by-date rules are refused."""
    line = (line or "").replace("\r", " ").replace("\n", " ")
    if action is None:
        m = _RULE_LINE.match(line)
        if not m:
            raise RuleError("start the rule with include: or exclude:, e.g. 'exclude: survey'")
        action, line = m.group(1).lower(), m.group(2)
        action = {"+": "include", "-": "exclude"}.get(action, action)
    action = action.lower().strip()
    if action not in RULE_ACTIONS:
        raise RuleError("a rule is include: or exclude:")
    query = " ".join(line.split())
    if not query:
        raise RuleError(f"{action}: give some words, an author:NAME or a cat:CATEGORY")
    if len(query) > MAX_RULE_CHARS:
        raise RuleError(f"{action}: at most {MAX_RULE_CHARS} characters (this one has {len(query)})")
    if any(ord(c) < 32 or ord(c) == 127 for c in query):
        raise RuleError(f"{action}: control characters are not allowed")
    try:
        parsed = parse_query(query)
    except QueryError as exc:
        raise RuleError(f"{action}: {exc}") from None
    if not (parsed.terms or parsed.phrases or parsed.filters.authors or parsed.filters.categories):
        raise RuleError(f"{action}: {query!r} has no word, author: or cat: to match "
                        "(common words like 'the' are ignored)")
    return action, query


@dataclass
class Paperish:
    """What rules and follows look at in a paper."""

    id: str
    title: str
    abstract: str
    authors: Sequence[str]
    categories: Sequence[str]
    organization: str | None = None

    @cached_property
    def word_list(self) -> list[str]:
        return words(f"{self.title} {self.abstract}")

    @cached_property
    def word_set(self) -> frozenset[str]:
        return frozenset(self.word_list)

    @cached_property
    def joined(self) -> str:
        return " " + " ".join(self.word_list) + " "

    @cached_property
    def author_keys(self) -> frozenset[str]:
        return frozenset(name_key(a) for a in self.authors)

    @cached_property
    def author_words(self) -> list[set[str]]:
        return [set(k.split()) for k in self.author_keys]


def _has_word(paper: Paperish, term: str) -> bool:
    ws = paper.word_set
    return term in ws or term + "s" in ws or term + "es" in ws or (
        term.endswith("s") and term[:-1] in ws)


def _in_category(categories: Sequence[str], wanted: str) -> bool:
    return any(c == wanted or c.startswith(wanted + ".") for c in categories)


@dataclass
class CompiledRule:
    rule: Rule
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    authors: list[set[str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rule: Rule, parse_query: QueryParser) -> "CompiledRule | None":
        try:
            parsed = parse_query(rule.query)
        except QueryError:
            return None
        return cls(rule, terms=list(parsed.terms),
                   phrases=[" " + " ".join(p) + " " for p in parsed.phrases],
                   authors=[set(name_key(a).split()) for a in parsed.filters.authors],
                   categories=list(parsed.filters.categories))

    def matches(self, paper: Paperish) -> bool:
        if not all(_has_word(paper, t) for t in self.terms):
            return False
        if not all(p in paper.joined for p in self.phrases):
            return False
        if not all(any(a <= name for name in paper.author_words) for a in self.authors):
            return False
        return all(_in_category(paper.categories, c) for c in self.categories)

    @property
    def label(self) -> str:
        return f"{self.rule.action}: {self.rule.query}"


def follow_matches(follow: Follow, paper: Paperish) -> bool:
    if follow.kind == "author":
        return follow.key in paper.author_keys
    if follow.kind == "organization":
        return bool(paper.organization) and paper.organization.casefold() == follow.key
    return _in_category(paper.categories, follow.key)


def follow_label(follow: Follow) -> str:
    return f"you follow {follow.kind} {follow.value}"


@dataclass
class Overrides:
    """One reader's follows and rules, compiled once per request or batch."""

    follows: list[Follow]
    includes: list[CompiledRule]
    excludes: list[CompiledRule]

    @classmethod
    def of(cls, follows: Sequence[Follow], rules: Sequence[Rule],
           parse_query: QueryParser) -> "Overrides":
        compiled = [c for c in (CompiledRule.of(r, parse_query) for r in rules) if c is not None]
        return cls(list(follows), [c for c in compiled if c.rule.action == "include"],
                   [c for c in compiled if c.rule.action == "exclude"])

    @property
    def empty(self) -> bool:
        return not (self.follows or self.includes or self.excludes)

    def apply(self, paper: Paperish) -> tuple[bool, list[str]]:
        """(excluded?, reasons it must be shown: the follows and include rules that fired)."""
        for rule in self.excludes:
            if rule.matches(paper):
                return True, [rule.label]
        reasons = [follow_label(f) for f in self.follows if follow_matches(f, paper)]
        reasons += [r.label for r in self.includes if r.matches(paper)]
        return False, reasons
