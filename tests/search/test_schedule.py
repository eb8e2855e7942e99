"""The hybrid search's choice of order from measured times."""

from __future__ import annotations

from paperboy.search.schedule import EXPLORE_EVERY, HybridSchedule, work_kind


def settle(schedule, *, two, one, keywords, vectors, kind=0, times=60):
    for _ in range(times):
        schedule.saw_embedding(two, single_thread=False)
        schedule.saw_embedding(one, single_thread=True)
        schedule.saw_keywords(keywords, kind)
        schedule.saw_vectors(vectors, kind)


def choices(schedule, kind, n=EXPLORE_EVERY - 1):
    """The orders of the next ``n`` searches, none of them an exploring one."""
    schedule.searches = 0
    return {schedule.keywords_beside_embedding(kind) for _ in range(n)}


def test_quick_keywords_run_after_a_two_thread_embedding():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=4.8, vectors=5.3, kind=3)  # 100k, a 16 % filter
    assert choices(s, 3) == {False}


def test_slow_keywords_run_beside_a_one_thread_embedding():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)  # 1M, no filter
    assert choices(s, 0) == {True}


def test_kinds_of_search_are_followed_apart():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0, kind=0)
    settle(s, two=6.5, one=9.5, keywords=2.0, vectors=5.0, kind=3)
    assert choices(s, 0) == {True} and choices(s, 3) == {False}


def test_kinds_are_no_filter_or_the_share_in_powers_of_two():
    assert work_kind(None, 1_000_000) == 0
    assert work_kind(1_000_000, 1_000_000) == 1
    assert work_kind(165_000, 1_000_000) == work_kind(140_000, 1_000_000) == 3
    assert work_kind(5_000, 1_000_000) == 8
    assert work_kind(0, 1_000_000) == 1 + 19  # nothing passes: the narrowest kind


def test_one_stall_does_not_decide_the_order():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)
    s.saw_embedding(1000.0, single_thread=True)  # e.g. the session being built
    assert s.embed_one < 20 and choices(s, 0) == {True}


def test_the_other_order_is_tried_now_and_then():
    s = HybridSchedule()
    settle(s, two=6.5, one=9.5, keywords=12.0, vectors=2.0)
    picks = [s.keywords_beside_embedding(0) for _ in range(2 * EXPLORE_EVERY)]
    assert picks.count(False) == 2 and picks.count(True) == 2 * EXPLORE_EVERY - 2
