"""The keyword side of "similar papers": a query made of a paper's most distinctive words.

A paper's neighbours by meaning (its vector's nearest) miss papers that share its specific
terms (a method's name, an object of study) while being worded differently overall; BM25 over
the paper's own words finds those. The query is the paper's words ranked by tf-idf (the title
counted as often as the keyword index counts it), at most ``SIMILAR_TERMS`` of them, so it stays
as cheap as a typed query. The two sides are fused like a search, with ``SIMILAR_ALPHA``:
both chosen on SciFact train (papers relevant to the same claim), checked on SciFact test and
on arXiv papers sharing an author (benchmarks/RESULTS.md, "Issue 16").
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Callable

from paperboy.search.keywords import TITLE_REPEAT, analyze
from paperboy.search.query import STOP_WORDS, words

SIMILAR_TERMS = 32
SIMILAR_ALPHA = 0.2


def distinctive_words(title: str, abstract: str, doc_freq: Callable[[str], int], size: int,
                      n: int = SIMILAR_TERMS) -> list[str]:
    """The ``n`` words of the paper with the highest tf-idf (one word per index token)."""
    counts: Counter[str] = Counter()
    word_of: dict[str, str] = {}
    for weight, text in ((TITLE_REPEAT, title or ""), (1, abstract or "")):
        for word in words(text):
            if word in STOP_WORDS or word.isdigit():
                continue
            for token in analyze(word):
                counts[token] += weight
                word_of.setdefault(token, word)

    def tf_idf(token: str) -> float:
        df = doc_freq(token)
        return (1 + math.log(counts[token])) * math.log(1 + (size - df + 0.5) / (df + 0.5))

    return [word_of[t] for t in sorted(counts, key=lambda t: (-tf_idf(t), t))[:n]]
