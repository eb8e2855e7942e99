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
from itertools import chain
from typing import Mapping, Sequence

from paperboy.search.keywords import analyze

#: ASCII punctuation: token boundaries for tantivy's simple tokenizer as well (it splits at
#: every character that is not a letter or digit), as is whitespace (``str.split``).
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CACHE_MAX = 200_000
_pieces: dict[str, tuple[str, ...]] = {}


def stems(text: str) -> set[str]:
    """The set of tokens the index stores for ``text`` (same as ``set(analyze(text))``)."""
    cache = _pieces
    pieces = set(_PUNCTUATION.sub(" ", text).split())
    found = list(map(cache.get, pieces))
    if None in found:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        for piece in pieces:
            if piece not in cache:
                cache[piece] = tuple(analyze(piece))
        found = list(map(cache.__getitem__, pieces))
    return set(chain.from_iterable(found))


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
