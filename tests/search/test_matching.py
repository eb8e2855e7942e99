"""matched_terms' piece-wise analysis gives exactly what the index's analyzer gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperboy.search.keywords import analyze
from paperboy.search.matching import matched_terms, stems

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "data" / "scifact" / "corpus.jsonl"

TRICKY = [
    "Naïve Bayes vs. BERT-based re-ranking (state-of-the-art); e.g. \"x/y\" & 3.5%...",
    "Übermäßig façade: résumé, coöperation — em–dash, «quotes», 日本語のテキスト and 数学",
    "snake_case_words, CamelCase, tabs\tand\nnewlines, under_score, a'b, x^2+y^2, ~approx",
    "a" * 45 + " short " + "b" * 39 + " " + "c" * 40,
    "",
]


@pytest.fixture(scope="module")
def texts():
    """The tricky texts, then 300 real abstracts when shared/ is there."""
    out = list(TRICKY)
    if SCIFACT.is_file():
        with open(SCIFACT, encoding="utf-8") as fh:
            for _, line in zip(range(300), fh):
                doc = json.loads(line)
                out.append(f"{doc['title']}\n{doc['text']}")
    return out


def test_stems_equal_whole_text_analysis(texts):
    for text in texts:
        assert stems(text) == set(analyze(text)), text[:80]
        assert stems(text) == set(analyze(text))  # second time from the cache


def test_matched_terms_in_query_order():
    found = matched_terms({"a": "Convolutional networks for images", "b": "Nothing here"},
                          ["image", "convolution", "transformer", "network"])
    assert found == {"a": ["image", "convolution", "network"], "b": []}


@pytest.mark.parametrize("terms", [[], ["!!"]])
def test_matched_terms_without_usable_terms(terms):
    assert matched_terms({"a": "the text"}, terms) == {"a": []}


def test_matched_terms_equal_whole_text_analysis_of_each_text(texts):
    whole = {text: set(analyze(text)) for text in texts}
    words = sorted({w for t in texts[:60] for w in t.split() if w.isalpha()})
    queries = [words[i::37][:12] for i in range(37)] + [["naïve", "re-ranking", "façade", "x^2"]]
    for start in range(0, len(texts), 20):
        page = {str(i): t for i, t in enumerate(texts[start:start + 20], start)}
        for terms in queries:
            want = {key: [t for t in terms if analyze(t) and set(analyze(t)) <= whole[body]]
                    for key, body in page.items()}
            assert matched_terms(page, terms) == want, terms
