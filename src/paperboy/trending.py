"""The trending score: points decayed by age, in the spirit of Hacker News' ranking.

    points = 1 + upvotes_imported + upvotes_local + COMMENT_WEIGHT * (comments_imported + comments_local)
    score  = points / (age_hours + 2) ** GRAVITY

``age_hours`` runs from the start (00:00 UTC) of the day the paper was first listed in a daily
feed (its arXiv publication time when it was never listed) to the reference moment: now for the
live trending list, or the end of the period shown when browsing a past day, week or month, so a
past month ranks as it did at its end. The ``1 +`` lets a brand-new paper with no votes rank by
freshness; GRAVITY = 1.8 halves a paper's score roughly every 1.5x of age.

The score is never computed over the whole store: callers pick candidates through the indexed
``daily_listings.listed_on`` window (a day, a week, a month, or the latest 7 days) and the
per-paper counters in ``paper_stats``, which votes and comments keep up to date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

GRAVITY = 1.8
COMMENT_WEIGHT = 0.5
#: How many days the live trending list looks back.
TRENDING_WINDOW_DAYS = 7


def points(upvotes_imported: int, upvotes_local: int, comments_imported: int,
           comments_local: int) -> float:
    return 1.0 + upvotes_imported + upvotes_local + COMMENT_WEIGHT * (
        comments_imported + comments_local
    )


def age_hours(first_seen: date | datetime, reference: datetime) -> float:
    if not isinstance(first_seen, datetime):
        first_seen = datetime.combine(first_seen, time.min)
    return max(0.0, (reference - first_seen).total_seconds() / 3600.0)


def decay(hours: float) -> float:
    """The divisor of :func:`score`; feeds compute it once per listing day and reuse it."""
    return (hours + 2.0) ** GRAVITY


def score(pts: float, hours: float) -> float:
    return pts / decay(hours)


def reference_time(until: date | None, now: datetime) -> datetime:
    """The moment ages are measured at: the end of the period shown, or now if sooner."""
    if until is None:
        return now
    end = datetime.combine(until + timedelta(days=1), time.min)
    return min(end, now)
