"""In-memory filter columns, so a date/category filter becomes a mask in a millisecond.

Asking the database for "every paper in cs.CL published 2018-2022" returns hundreds of
thousands of ids on a large store, which costs far more than the vector search it restricts.
Instead the service keeps two columns indexed by doc id: the publication day (int32) and the
categories as bits (uint64 words, one bit per category seen). Both are refreshed incrementally
from ``papers.modified_at`` (indexed), so new and changed papers are picked up on the next query.
Author and listing filters stay in SQL: they are selective, and their id sets are small.
"""

from __future__ import annotations

import threading
from datetime import date, datetime

import numpy as np

NO_DATE = np.iinfo(np.int32).min
_EPOCH = date(1970, 1, 1)


def _day(value) -> int:
    if value is None:
        return NO_DATE
    if isinstance(value, datetime):
        value = value.date()
    return (value - _EPOCH).days


class FacetColumns:
    def __init__(self, repo):
        self.repo = repo
        self.days = np.full(0, NO_DATE, dtype=np.int32)
        self.bits = np.zeros((0, 1), dtype=np.uint64)
        self.codes: dict[str, int] = {}
        self.last_modified: datetime | None = None
        self._lock = threading.Lock()

    def _grow(self, max_doc: int) -> None:
        if max_doc < len(self.days):
            return
        size = max(max_doc + 1, int(len(self.days) * 1.25) + 1024)
        days = np.full(size, NO_DATE, dtype=np.int32)
        days[: len(self.days)] = self.days
        bits = np.zeros((size, self.bits.shape[1]), dtype=np.uint64)
        bits[: len(self.bits)] = self.bits
        self.days, self.bits = days, bits

    def _code(self, category: str) -> int:
        code = self.codes.get(category)
        if code is None:
            code = self.codes[category] = len(self.codes)
            if code // 64 >= self.bits.shape[1]:
                self.bits = np.hstack([self.bits, np.zeros((len(self.bits), 1), dtype=np.uint64)])
        return code

    def refresh(self) -> int:
        """Read papers changed since the last refresh; returns how many."""
        with self._lock:
            rows, cats, newest = self.repo.facet_rows(self.last_modified)
            if not rows:
                return 0
            doc_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._grow(int(doc_ids.max()))
            self.days[doc_ids] = np.fromiter((_day(r[1]) for r in rows), dtype=np.int32,
                                             count=len(rows))
            self.bits[doc_ids] = 0
            if cats:
                cat_docs = np.fromiter((d for d, _ in cats), dtype=np.int64, count=len(cats))
                codes = np.fromiter((self._code(c) for _, c in cats), dtype=np.int64, count=len(cats))
                for code in np.unique(codes):
                    # A paper lists a category once, so the fancy-indexed |= has no duplicates.
                    members = cat_docs[codes == code]
                    self.bits[members, code // 64] |= np.uint64(1 << int(code % 64))
            self.last_modified = newest
            return len(rows)

    def mask(self, since: date | None, until: date | None, categories: list[str]) -> np.ndarray:
        """Sorted doc ids passing the date range and any of the categories."""
        keep = self.days != NO_DATE if (since or until) else np.ones(len(self.days), dtype=bool)
        if since:
            keep &= self.days >= _day(since)
        if until:
            keep &= self.days <= _day(until)
        if categories:
            # One AND per 64-bit word of wanted categories (not one pass per category).
            words: dict[int, int] = {}
            for wanted in categories:
                for cat, code in self.codes.items():
                    if cat == wanted or ("." not in wanted and cat.startswith(wanted + ".")):
                        words[code // 64] = words.get(code // 64, 0) | (1 << (code % 64))
            any_cat = np.zeros(len(self.days), dtype=bool)
            for word, bits in words.items():
                any_cat |= (self.bits[:, word] & np.uint64(bits)) != 0
            keep &= any_cat
        return np.flatnonzero(keep).astype(np.int64, copy=False)
