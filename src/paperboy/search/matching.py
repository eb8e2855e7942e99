"""Which query terms a hit matches, decided by the same tokenizer as the keyword index.

The page's papers (at most a few dozen) go into a throw-away in-memory FTS5 table with the
index's tokenizer (Porter over unicode61), and each term is matched there: exact stemming
semantics ("convolution" matches "convolutional") at microsecond cost, instead of re-running
each term against the whole index.
"""

from __future__ import annotations

import sqlite3
from typing import Mapping, Sequence

from paperboy.storage.search_index import FTS_TOKENIZE


def matched_terms(texts: Mapping[str, str], terms: Sequence[str]) -> dict[str, list[str]]:
    """{key: [terms found in texts[key]]}, terms in query order."""
    out: dict[str, list[str]] = {key: [] for key in texts}
    if not texts or not terms:
        return out
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='{FTS_TOKENIZE}')")
        keys = list(texts)
        conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)",
                         [(i, texts[k]) for i, k in enumerate(keys)])
        for term in terms:
            quoted = '"' + term.replace('"', "") + '"'
            for (row,) in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (quoted,)):
                out[keys[row]].append(term)
    finally:
        conn.close()
    return out


def index_tokens(terms: Sequence[str]) -> dict[str, str | None]:
    """Each term as the keyword index stores it (Porter stem; None if it yields no token)."""
    out: dict[str, str | None] = {t: None for t in terms}
    if not terms:
        return out
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(body, tokenize='{FTS_TOKENIZE}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        conn.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", list(enumerate(terms)))
        for token, row in conn.execute("SELECT term, doc FROM v WHERE offset = 0"):
            out[terms[row]] = token
    finally:
        conn.close()
    return out
