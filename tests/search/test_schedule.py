"""The hybrid search's choice of order from measured times."""

from __future__ import annotations

from paperboy.search.schedule import EXPLORE_EVERY, HybridSchedule


def settle(schedule, *, two, one, keywords, vectors, filtered=False, times=60):
    for _ in range(times):
        schedule.saw_embedding(two, single_thread=False)
        schedule.saw_embedding(one, single_thread=True)
        schedule.saw_keywords(keywords, filtered)
        schedule.saw_vectors(vectors, filtered)


def choices(schedule, filtered, n=EXPLORE_EVERY - 1):
    """The orders of the next ``n`` searches, none of them an exploring one."""
    schedule.searches = 0
    return {schedule.keywords_beside_embedding(filtered) for _ in range(n)}


def test_quick_keywords_run_after_a_two_thread_embedding():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=4.8, vectors=5.3, filtered=True)  # 100k, filtered
    assert choices(s, True) == {False}


def test_slow_keywords_run_beside_a_one_thread_embedding():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)  # 1M, no filter
    assert choices(s, False) == {True}


def test_filtered_and_unfiltered_searches_are_followed_apart():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0, filtered=False)
    settle(s, two=6.5, one=9.5, keywords=2.0, vectors=5.0, filtered=True)
    assert choices(s, False) == {True} and choices(s, True) == {False}


def test_one_stall_does_not_decide_the_order():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)
    s.saw_embedding(1000.0, single_thread=True)  # e.g. the session being built
    assert s.embed_one < 20 and choices(s, False) == {True}


def test_the_other_order_is_tried_now_and_then():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)
    picks = [s.keywords_beside_embedding(False) for _ in range(2 * EXPLORE_EVERY)]
    assert picks.count(False) == 2 and picks.count(True) == 2 * EXPLORE_EVERY - 2
