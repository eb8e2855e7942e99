"""Query parsing: phrases, filters, stop-words and hostile input."""

from __future__ import annotations

from datetime import date

import pytest

from paperboy.query import QueryError, SearchFilters
from paperboy.search.query import MAX_QUERY_CHARS, MAX_TERMS, parse_query
from paperboy.search.keywords import KeywordQuery


def test_terms_phrases_and_filters():
    q = parse_query('author:"Ada Lovelace" cat:cs.CL "retrieval heads" long context since:2024-01-02')
    assert q.filters.authors == ["Ada Lovelace"]
    assert q.filters.categories == ["cs.CL"]
    assert q.filters.since == date(2024, 1, 2)
    assert q.phrases == [["retrieval", "heads"]]
    assert q.terms == ["retrieval", "heads", "long", "context"]
    assert q.text == "retrieval heads long context"
    assert q.notes == []


def test_filters_merge_with_given_ones():
    q = parse_query("cat:cs.CV x", SearchFilters(categories=["cs.CL"], until=date(2024, 5, 1),
                                                    listed_only=True))
    assert q.filters.categories == ["cs.CL", "cs.CV"]
    assert q.filters.until == date(2024, 5, 1) and q.filters.listed_only


def test_stop_words_are_dropped_but_noted_when_alone():
    assert parse_query("the attention of heads").terms == ["attention", "heads"]
    q = parse_query("the and of")
    assert q.only_stop_words and q.terms == [] and "common words" in q.notes[0]


def test_unbalanced_quote_runs_to_end():
    q = parse_query('"retrieval heads matter')
    assert q.phrases == [["retrieval", "heads", "matter"]]
    assert "unbalanced quote" in q.notes[0]


@pytest.mark.parametrize("raw", ['NEAR(a b)', 'a* OR b^2', "'; DROP TABLE papers; --", 'x:"" "" ""',
                                 '"a" AND "b"', "\u0000\u202e{}[]()"])
def test_hostile_input_becomes_plain_words(raw):
    q = parse_query(raw)
    kq = KeywordQuery.from_words(q.terms, q.phrases)
    # Only word characters reach the index, as term values (never as query syntax).
    for term in q.terms:
        assert term.replace("_", "").isalnum()
    for token in kq.tokens + [t for p in kq.phrases for t in p]:
        assert token.isalnum()


def test_long_queries_are_cut():
    q = parse_query(" ".join(f"word{i}" for i in range(5000)))
    assert len(q.text) <= MAX_QUERY_CHARS and len(q.terms) == MAX_TERMS
    assert any("shortened" in n for n in q.notes)


def test_unknown_filter_is_searched_as_words():
    q = parse_query("venue:NeurIPS transformers")
    assert q.terms == ["venue", "neurips", "transformers"]
    assert "unknown filter venue:" in q.notes[0]
    assert parse_query("see https://arxiv.org/abs/1").notes == []


@pytest.mark.parametrize("raw,message", [
    ("since:2024-13-01", "since:2024-13-01 is not a date"),
    ('author:""', "needs a value"),
    ("since:2024-05-01 until:2024-01-01", "is after until"),
])
def test_filter_errors_are_one_line(raw, message):
    with pytest.raises(QueryError, match=message) as info:
        parse_query(raw)
    assert "\n" not in str(info.value)


def test_keyword_query_uses_the_index_analyzer():
    kq = KeywordQuery.from_words(["Convolutional", "x_1", "naïve"], [["retrieval", "heads"]])
    assert kq.tokens == ["convolut", "x", "1", "naiv"]
    assert kq.phrases == [["retriev", "head"]]
    assert KeywordQuery.from_words([], []).is_empty


def test_has_code_filter():
    parsed = parse_query("retrieval has:code cat:cs.CL")
    assert parsed.filters.with_code and parsed.filters.categories == ["cs.CL"]
    assert parsed.terms == ["retrieval"] and not parse_query("retrieval").filters.with_code
    with pytest.raises(QueryError, match="has:code"):
        parse_query("retrieval has:stars")
