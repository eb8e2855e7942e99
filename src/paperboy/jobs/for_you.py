"""The digest's "For you" section: the personal picks of a batch of subscribers, ranked for all
of them in one batch (:meth:`RecommendService.recommend_many`: one ``rank_many`` call, no query
per reader). Mail and recommend are sibling features, so the jobs that run the digest (the
scheduler, ``paperboy digest``) join them here."""

from __future__ import annotations

from datetime import date
from typing import Sequence

from paperboy.mail.compose import PersonalPicks
from paperboy.recommend.service import Recommendation, RecommendService
from paperboy.search.query import parse_query
from paperboy.settings import Settings
from paperboy.storage import Store
from paperboy.storage.feeds import Period
from paperboy.storage.subscriptions import Subscriber

#: most "For you" papers in one digest (the trending list follows)
FOR_YOU_PAPERS = 5


def why(rec: Recommendation) -> str:
    """One line: the follow or rule that fired, else the closest liked paper."""
    if rec.reasons:
        return rec.reasons[0][:1].upper() + rec.reasons[0][1:]
    if rec.liked:
        title = rec.liked[0][1]
        if len(title) > 80:
            title = title[:79] + "\u2026"
        return f"Close to \u201c{title}\u201d, which you liked"
    return "Picked from what you like"


def digest_picks(store: Store, settings: Settings) -> PersonalPicks:
    service = RecommendService(store, settings, parse_query)

    def picks(subscribers: Sequence[Subscriber], start: date, end: date):
        period = Period(start, end, "range")
        users = {s.id: s.user_id for s in subscribers if s.user_id is not None}
        limit = max((min(FOR_YOU_PAPERS, s.max_papers) for s in subscribers), default=0)
        ranked = service.recommend_many(sorted(set(users.values())), period, limit=limit)
        out = {}
        for sub in subscribers:
            recs = ranked.get(users.get(sub.id), [])[:min(FOR_YOU_PAPERS, sub.max_papers)]
            out[sub.id] = [(r.paper_id, why(r)) for r in recs]
        return out

    return picks
