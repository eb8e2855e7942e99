"""The order of a hybrid search's work on two cores, chosen from what each part has cost lately.

A hybrid search embeds the query (E, which two threads do faster than one), ranks keywords (K,
one core, no GIL) and then searches vectors with the query's vector (V, one core). Two orders:

* together: K on one core while E runs single-threaded on the other, then V:
  ``max(K, E1 + V)``. Best when the keyword ranking is slow (a million papers).
* after: E on both cores, then K beside V: ``E2 + max(K, V)``. Best when the keyword ranking
  is quick: running it beside a two-thread embedding stalls the embedding instead (measured at
  100k papers with a filter: E 6.4 ms alone, 11.6 ms beside K).

K and V differ with and without a filter, so each is followed for both; all are moving averages
of measured wall times, so the choice follows the corpus and the machine. One search in
``EXPLORE_EVERY`` takes the other order, so that the times of both stay measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: weight of the newest measurement in the moving averages
SMOOTHING = 0.2
EXPLORE_EVERY = 50
#: samples above this many times the average count as this many times it
OUTLIER = 3.0


@dataclass
class HybridSchedule:
    # Starting guesses (ms), from the machine this was written on; measurements replace them.
    embed_two: float = 7.0
    embed_one: float = 10.0
    keywords: dict[bool, float] = field(default_factory=lambda: {False: 5.0, True: 7.0})
    vectors: dict[bool, float] = field(default_factory=lambda: {False: 2.0, True: 4.0})
    searches: int = 0

    def keywords_beside_embedding(self, filtered: bool) -> bool:
        """True for the "together" order (see the module docstring), False for "after"."""
        k, v = self.keywords[filtered], self.vectors[filtered]
        together = max(k, self.embed_one + v) < self.embed_two + max(k, v)
        self.searches += 1
        return not together if self.searches % EXPLORE_EVERY == 0 else together

    def saw_embedding(self, ms: float, single_thread: bool) -> None:
        if single_thread:
            self.embed_one = _mix(self.embed_one, ms)
        else:
            self.embed_two = _mix(self.embed_two, ms)

    def saw_keywords(self, ms: float, filtered: bool) -> None:
        self.keywords[filtered] = _mix(self.keywords[filtered], ms)

    def saw_vectors(self, ms: float, filtered: bool) -> None:
        self.vectors[filtered] = _mix(self.vectors[filtered], ms)


def _mix(average: float, ms: float) -> float:
    # A one-off stall (the first single-thread run builds its session: ~1 s) counts as at most
    # a few times the average, so one sample cannot decide the order for the next hundred.
    return (1 - SMOOTHING) * average + SMOOTHING * min(ms, OUTLIER * average)
