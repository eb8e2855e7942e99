"""Which query terms a hit matches, decided by the keyword index's own analyzer.

The page's papers (at most a few dozen) are analyzed with the same tokenizer and stemmer as the
index (paperboy.search.keywords.analyze), so "convolution" matches "convolutional" exactly as
the ranking saw it, without asking the index once per term.

Analyzing every abstract of a page whole is slow. Words repeat across papers, so each
text is cut at whitespace and ASCII punctuation -- characters the index's tokenizer also splits
at, so each piece analyzes to exactly the tokens it contributes to the whole -- and each
distinct piece is analyzed once per process (a bounded cache), which also knows, for each token,
the pieces that produce it. A text then contains a query token exactly when its set of pieces
meets that token's pieces: set operations in C instead of the set of every stem of every text.
"""

from __future__ import annotations

import re
import threading
from itertools import chain
from typing import Mapping, Sequence

from paperboy.search.keywords import analyze

#: ASCII punctuation: token boundaries for tantivy's simple tokenizer as well (it splits at
#: every character that is not a letter or digit), as is whitespace (``str.split``).
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CACHE_MAX = 200_000
_pieces: dict[str, tuple[str, ...]] = {}  # piece -> its tokens
_producing: dict[str, set[str]] = {}  # token -> the pieces in the cache that produce it
_lock = threading.Lock()


def _pieces_of(text: str) -> set[str]:
    return set(_PUNCTUATION.sub(" ", text).split())


def _learn(pieces: set[str]) -> None:
    """Put every piece of ``pieces`` in the cache (with the reverse index)."""
    missing = pieces.difference(_pieces)  # (``pieces - keys()`` would walk every key)
    if not missing:
        return
    with _lock:
        if len(_pieces) + len(missing) > _CACHE_MAX:
            _pieces.clear()
            _producing.clear()
            missing = pieces
        for piece in missing:
            tokens = _pieces[piece] = tuple(analyze(piece))
            for token in tokens:
                _producing.setdefault(token, set()).add(piece)


def stems(text: str) -> set[str]:
    """The set of tokens the index stores for ``text`` (same as ``set(analyze(text))``)."""
    pieces = _pieces_of(text)
    _learn(pieces)
    return set(chain.from_iterable(map(_pieces.__getitem__, pieces)))


def matched_terms(texts: Mapping[str, str], terms: Sequence[str]) -> dict[str, list[str]]:
    """{key: [terms found in texts[key]]}, terms in query order."""
    out: dict[str, list[str]] = {key: [] for key in texts}
    if not texts or not terms:
        return out
    term_tokens = {t: analyze(t) for t in terms}
    wanted = set(chain.from_iterable(term_tokens.values()))
    for key, body in texts.items():
        pieces = _pieces_of(body)
        _learn(pieces)
        with _lock:  # another search may be clearing the cache
            present = {token for token in wanted if not pieces.isdisjoint(_producing.get(token, ()))}
        out[key] = [t for t, toks in term_tokens.items() if toks and all(x in present for x in toks)]
    return out
