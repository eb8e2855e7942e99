"""Parse what a person types into the search box, safely.

Syntax: plain words (ranked, any may match), ``"quoted phrases"`` (must appear), and filters
``author:"Ada Lovelace"`` / ``author:lovelace``, ``cat:cs.CL`` (or ``cat:cs`` for the archive),
``since:2024-01-01``, ``until:2024-12-31``, ``listed:yes``, ``has:code``. Everything else is
text.

Only word characters ever reach an index: FTS5 operators (``NEAR``, ``*``, ``^``, ``AND``...),
quotes and SQL fragments are either syntax handled here or dropped, so no input can break a
query. Problems the user can fix (a bad date, an empty filter) raise :class:`QueryError` with one
line; harmless oddities (an unknown ``key:``, an unbalanced quote, a huge query) are searched as
words and noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from paperboy.query import QueryError, SearchFilters

#: Longest query text we embed / match (characters) and most distinct terms we rank.
MAX_QUERY_CHARS = 2000
MAX_TERMS = 48

FILTER_KEYS = {
    "author": "author", "au": "author",
    "cat": "category", "category": "category",
    "since": "since", "from": "since",
    "until": "until", "to": "until",
    "listed": "listed",
    "has": "has",
}

# Common English function words: they carry no topic, and dropping them keeps BM25 fast.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves s t don
""".split())

_WORD = re.compile(r"\w+", re.UNICODE)
# key:"quoted value" | key:value | "phrase" | other text
_TOKEN = re.compile(
    r'(?P<key>[A-Za-z]+):(?:"(?P<qval>[^"]*)"?|(?P<val>[^\s"]+))'
    r'|"(?P<phrase>[^"]*)("|$)'
    r'|(?P<text>[^\s"]+)'
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscore; any script)."""
    return [w.lower() for w in _WORD.findall(text)]


@dataclass
class ParsedQuery:
    text: str                                   # free text for the embedder (filters removed)
    terms: list[str] = field(default_factory=list)   # ranked terms, stop-words removed
    phrases: list[list[str]] = field(default_factory=list)  # required phrases (word lists)
    filters: SearchFilters = field(default_factory=SearchFilters)
    notes: list[str] = field(default_factory=list)
    only_stop_words: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.phrases

    @property
    def highlight_terms(self) -> list[str]:
        seen = dict.fromkeys(self.terms)
        for phrase in self.phrases:
            seen.update(dict.fromkeys(phrase))
        return list(seen)


def _parse_date(key: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{key}:{value} is not a date; write {key}:YYYY-MM-DD") from None


def parse_query(raw: str, filters: SearchFilters | None = None) -> ParsedQuery:
    """Split ``raw`` into text, terms, phrases and filters (merged with ``filters``)."""
    raw = raw or ""
    notes: list[str] = []
    if len(raw) > MAX_QUERY_CHARS:
        raw = raw[:MAX_QUERY_CHARS]
        notes.append(f"query shortened to its first {MAX_QUERY_CHARS} characters")
    if raw.count('"') % 2:
        notes.append("unbalanced quote: the last phrase runs to the end of the query")
    base = filters or SearchFilters()
    out = SearchFilters(since=base.since, until=base.until, categories=list(base.categories),
                        authors=list(base.authors), listed_only=base.listed_only,
                        with_code=base.with_code)
    text_parts: list[str] = []
    phrases: list[list[str]] = []
    for m in _TOKEN.finditer(raw):
        if m.group("key") is not None:
            key = m.group("key").lower()
            value = m.group("qval") if m.group("qval") is not None else m.group("val")
            kind = FILTER_KEYS.get(key)
            if kind is None:
                if key in ("http", "https") or not value:
                    text_parts.append(m.group(0))
                    continue
                notes.append(f"unknown filter {key}: searched as words "
                             "(filters: author:, cat:, since:, until:, listed:, has:code)")
                text_parts.append(f"{key} {value}")
                continue
            value = value.strip()
            if not value:
                raise QueryError(f"filter {key}: needs a value, e.g. {key}:\"...\"")
            if kind == "author":
                out.authors.append(value)
            elif kind == "category":
                out.categories.append(value)
            elif kind == "since":
                out.since = _parse_date(key, value)
            elif kind == "until":
                out.until = _parse_date(key, value)
            elif kind == "listed":
                out.listed_only = value.lower() in ("1", "yes", "true", "y")
            elif kind == "has":
                if value.lower() != "code":
                    raise QueryError(f"has:{value} is not a filter; write has:code")
                out.with_code = True
        elif m.group("phrase") is not None:
            ws = words(m.group("phrase"))
            if len(ws) > 1:
                phrases.append(ws[:16])
            text_parts.append(m.group("phrase"))
        else:
            text_parts.append(m.group("text"))
    if out.since and out.until and out.since > out.until:
        raise QueryError(f"since {out.since} is after until {out.until}")

    text = " ".join(text_parts).strip()
    all_words = words(text)
    single = {w for p in phrases if len(p) == 1 for w in p}
    terms = list(dict.fromkeys(w for w in all_words if w not in STOP_WORDS or w in single))
    if len(terms) > MAX_TERMS:
        terms = terms[:MAX_TERMS]
        notes.append(f"only the first {MAX_TERMS} distinct words are matched")
    only_stop = bool(all_words) and not terms and not phrases
    if only_stop:
        notes.append("the query has only common words; matching by meaning only")
    return ParsedQuery(text=text, terms=terms, phrases=phrases, filters=out, notes=notes,
                       only_stop_words=only_stop)
