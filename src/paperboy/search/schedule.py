"""The order of a hybrid search's work on two cores, chosen from what each part has cost lately.

A hybrid search embeds the query (E, which two threads do faster than one), ranks keywords (K,
one core, no GIL) and then searches vectors with the query's vector (V, one core). Two orders:

* together: K on one core while E runs single-threaded on the other, then V:
  ``max(K, E1 + V)``. Best when the keyword ranking is slow (a million papers).
* after: E on both cores, then K beside V: ``E2 + max(K, V)``. Best when the keyword ranking
  is quick: running it beside a two-thread embedding stalls the embedding instead (measured at
  100k papers with a filter: E 6.4 ms alone, 11.6 ms beside K).

K and V depend on the filter: how much of the keyword ranking is read, how far the vector graph
over-fetches, or whether the filtered rows are scored exactly. So each is followed per *kind* of
search: no filter, or the filter's share of the papers in powers of two (see :func:`work_kind`).
All are moving averages of measured wall times, so the choice follows the corpus and the
machine. One search in
``EXPLORE_EVERY`` takes the other order, so that the times of both stay measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: weight of the newest measurement in the moving averages
SMOOTHING = 0.2
EXPLORE_EVERY = 50
#: samples above this many times the average count as this many times it
OUTLIER = 3.0
#: guesses for a kind of search not measured yet (ms)
FIRST_KEYWORDS_MS = 5.0
FIRST_VECTORS_MS = 3.0


@dataclass
class HybridSchedule:
    # Starting guesses (ms), from the machine this was written on; measurements replace them.
    embed_two: float = 7.0
    embed_one: float = 10.0
    keywords: dict[int, float] = field(default_factory=dict)  # by kind of search
    vectors: dict[int, float] = field(default_factory=dict)
    searches: int = 0

    def keywords_beside_embedding(self, kind: int) -> bool:
        """True for the "together" order (see the module docstring), False for "after"."""
        k = self.keywords.get(kind, FIRST_KEYWORDS_MS)
        v = self.vectors.get(kind, FIRST_VECTORS_MS)
        together = max(k, self.embed_one + v) < self.embed_two + max(k, v)
        self.searches += 1
        return not together if self.searches % EXPLORE_EVERY == 0 else together

    def saw_embedding(self, ms: float, single_thread: bool) -> None:
        if single_thread:
            self.embed_one = _mix(self.embed_one, ms)
        else:
            self.embed_two = _mix(self.embed_two, ms)

    def saw_keywords(self, ms: float, kind: int) -> None:
        self.keywords[kind] = _mix(self.keywords.get(kind, ms), ms)

    def saw_vectors(self, ms: float, kind: int) -> None:
        self.vectors[kind] = _mix(self.vectors.get(kind, ms), ms)


def work_kind(allowed: int | None, total: int) -> int:
    """0 without a filter; else 1 + log2 of (papers / papers passing), rounded down, so that
    filters letting through about the same share of the papers share their measurements."""
    if allowed is None:
        return 0
    return 1 + min(20, int(math.log2(max(1, total) / max(1, allowed))))


def _mix(average: float, ms: float) -> float:
    # A one-off stall (the first single-thread run builds its session: ~1 s) counts as at most
    # a few times the average, so one sample cannot decide the order for the next hundred.
    return (1 - SMOOTHING) * average + SMOOTHING * min(ms, OUTLIER * average)
