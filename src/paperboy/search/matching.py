"""Which query terms a hit matches, decided by the keyword index's own analyzer.

The page's papers (at most a few dozen) are analyzed with the same tokenizer and stemmer as the
index (paperboy.search.keywords.analyze), so "convolution" matches "convolutional" exactly as
the ranking saw it, without asking the index once per term.

Analyzing 20 abstracts whole cost ~2-3 ms per search page. Words repeat across papers, so each
text is cut at whitespace and ASCII punctuation -- characters the index's tokenizer also splits
at, so each piece analyzes to exactly the tokens it contributes to the whole -- and each
distinct piece is analyzed once per process (a bounded cache).
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from paperboy.search.keywords import analyze

#: Token boundaries for tantivy's simple tokenizer as well (it splits at every character that
#: is not a letter or digit).
_BOUNDARIES = re.compile(r"[\s!-/:-@\[-`{-~]+")
_CACHE_MAX = 200_000
_pieces: dict[str, tuple[str, ...]] = {}


def stems(text: str) -> set[str]:
    """The set of tokens the index stores for ``text`` (same as ``set(analyze(text))``)."""
    out: set[str] = set()
    cache = _pieces
    for piece in set(_BOUNDARIES.split(text)):
        if not piece:
            continue
        toks = cache.get(piece)
        if toks is None:
            toks = tuple(analyze(piece))
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[piece] = toks
        out.update(toks)
    return out


def matched_terms(texts: Mapping[str, str], terms: Sequence[str]) -> dict[str, list[str]]:
    """{key: [terms found in texts[key]]}, terms in query order."""
    out: dict[str, list[str]] = {key: [] for key in texts}
    if not texts or not terms:
        return out
    term_tokens = {t: analyze(t) for t in terms}
    for key, body in texts.items():
        present = stems(body)
        out[key] = [t for t, toks in term_tokens.items() if toks and all(x in present for x in toks)]
    return out
