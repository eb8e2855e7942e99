"""Which query terms a hit matches, decided by the keyword index's own analyzer.

The page's papers (at most a few dozen) are analyzed with the same tokenizer and stemmer as the
index (paperboy.search.keywords.analyze), so "convolution" matches "convolutional" exactly as
the ranking saw it, without asking the index once per term.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from paperboy.search.keywords import analyze


def matched_terms(texts: Mapping[str, str], terms: Sequence[str]) -> dict[str, list[str]]:
    """{key: [terms found in texts[key]]}, terms in query order."""
    out: dict[str, list[str]] = {key: [] for key in texts}
    if not texts or not terms:
        return out
    term_tokens = {t: analyze(t) for t in terms}
    for key, body in texts.items():
        present = set(analyze(body))
        out[key] = [t for t, toks in term_tokens.items() if toks and all(x in present for x in toks)]
    return out
