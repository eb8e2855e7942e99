"""In-memory filter columns, so a date/category filter becomes a mask in a millisecond.

Asking the database for "every paper in cs.CL published 2018-2022" returns hundreds of
thousands of ids on a large store, which costs far more than the vector search it restricts.
Instead the service keeps two columns indexed by doc id: the publication day (int32) and the
categories as bits (uint64 words, one bit per category seen). Both are refreshed incrementally
from ``papers.modified_at`` (indexed), so new and changed papers are picked up on the next query.
Author and listing filters stay in SQL: they are selective, and their id sets are small.

The masks of recent filters are kept until the columns change: a service sees the same few
filters again and again (a category page, "this week"), and a wide one over 1M papers costs a
few milliseconds to recompute (a filter cache, as search engines keep for their bitsets).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
        self._masks: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._generation = 0  # bumped by every refresh that changed the columns

    #: how many recent filters' masks are kept (each is at most 8 bytes a paper)
    CACHED_MASKS = 16

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
        """Read papers changed since the last refresh; returns how many changed the columns.

        The papers of the newest modification time are read again each time (others may
        commit with the same time), so only rows that differ are written, and only then are the
        cached masks dropped. Rows are written with their final values, never cleared first: a
        mask computed meanwhile is not cached (the generation moved)."""
        with self._lock:
            rows, cats, newest = self.repo.facet_rows(self.last_modified)
            self.last_modified = newest
            if not rows:
                return 0
            for category in dict.fromkeys(c for _, c in cats):
                self._code(category)  # may add a word of bits
            doc_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            self._grow(int(doc_ids.max()))
            order = np.argsort(doc_ids)
            doc_ids = doc_ids[order]
            days = np.fromiter((_day(r[1]) for r in rows), dtype=np.int32, count=len(rows))[order]
            bits = np.zeros((len(doc_ids), self.bits.shape[1]), dtype=np.uint64)
            if cats:
                at = np.searchsorted(doc_ids, np.fromiter((d for d, _ in cats), dtype=np.int64,
                                                          count=len(cats)))
                codes = np.fromiter((self.codes[c] for _, c in cats), dtype=np.int64, count=len(cats))
                for code in np.unique(codes):
                    # A paper lists a category once, so the fancy-indexed |= has no duplicates.
                    bits[at[codes == code], code // 64] |= np.uint64(1 << int(code % 64))
            differs = (self.days[doc_ids] != days) | (self.bits[doc_ids] != bits).any(axis=1)
            changed = int(differs.sum())
            if changed:
                self.days[doc_ids[differs]] = days[differs]
                self.bits[doc_ids[differs]] = bits[differs]
                self._masks.clear()
                self._generation += 1
            return changed

    def mask(self, since: date | None, until: date | None, categories: list[str]) -> np.ndarray:
        """Sorted doc ids passing the date range and any of the categories (read-only: the
        array may be shared with later calls)."""
        key = (since, until, tuple(sorted(set(categories or ()))))
        with self._lock:
            found = self._masks.get(key)
            if found is not None:
                self._masks.move_to_end(key)
                return found
            generation = self._generation
            columns = self.days, self.bits, dict(self.codes)  # one consistent version
        found = self._compute(*columns, since, until, categories)
        found.setflags(write=False)
        with self._lock:
            if generation != self._generation:
                return found  # the columns changed meanwhile: not for later calls
            self._masks[key] = found
            while len(self._masks) > self.CACHED_MASKS:
                self._masks.popitem(last=False)
        return found

    @staticmethod
    def _compute(days: np.ndarray, bits: np.ndarray, codes: dict[str, int], since: date | None,
                 until: date | None, categories: list[str]) -> np.ndarray:
        keep = days != NO_DATE if (since or until) else np.ones(len(days), dtype=bool)
        if since:
            keep &= days >= _day(since)
        if until:
            keep &= days <= _day(until)
        if categories:
            # One AND per 64-bit word of wanted categories (not one pass per category).
            words: dict[int, int] = {}
            for wanted in categories:
                for cat, code in codes.items():
                    if cat == wanted or ("." not in wanted and cat.startswith(wanted + ".")):
                        words[code // 64] = words.get(code // 64, 0) | (1 << (code % 64))
            any_cat = np.zeros(len(days), dtype=bool)
            for word, wanted_bits in words.items():
                any_cat |= (bits[:, word] & np.uint64(wanted_bits)) != 0
            keep &= any_cat
        return np.flatnonzero(keep).astype(np.int64, copy=False)
