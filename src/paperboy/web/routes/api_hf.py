"""Hugging Face-compatible API, so ``huggingface_hub.HfApi(endpoint=...)`` works against Paperboy.

Shapes follow the real ``/api/daily_papers`` response (see tests/web/test_hf_compat.py): a daily
entry wraps the paper (``paper``) with the listing's ``publishedAt`` (when it was listed),
``title``, ``thumbnail``, ``numComments`` and ``submittedBy``. ``/api/papers/{id}`` returns the
paper fields at top level plus ``submittedOnDailyAt`` / ``submittedOnDailyBy``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from paperboy.query import QueryError
from paperboy.storage.feeds import FeedItem, Period
from paperboy.web.deps import SearchDep, StoreDep
from paperboy.web.errors import BadInput
from paperboy.web.links import BaseUrlDep
from paperboy.web.params import clean, parse_paper_id, parse_period, parse_sort

router = APIRouter(tags=["Hugging Face compatible"])

#: Days `/api/daily_papers` spans when no date, week or month is given.
RECENT_DAYS = 30


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _listed_moment(item: FeedItem) -> datetime | None:
    return item.moment


def _user(name: str | None, fullname: str | None = None) -> dict | None:
    """A Hugging Face user object; the avatar and flags are local (Paperboy keeps neither)."""
    if not name:
        return None
    return {"avatarUrl": "", "fullname": fullname or name, "name": name, "user": name,
            "type": "user", "isPro": False, "isHf": False, "isMod": False}


def _organization(name: str | None) -> dict | None:
    if not name:
        return None
    return {"name": name, "fullname": name, "avatarUrl": ""}


def paper_json(item: FeedItem, base_url: str) -> dict:
    """The ``paper`` object of the Hugging Face API."""
    p = item.paper
    out = {
        "id": p.id,
        "authors": [
            {"_id": f"{p.id}-a{i}", "name": name, "hidden": False}
            for i, name in enumerate(p.authors)
        ],
        "publishedAt": _iso(p.published),
        "title": " ".join(p.title.split()),
        "summary": p.abstract,
        "upvotes": item.upvotes,
        "discussionId": p.id,
    }
    if "upvotes_imported" in item.extra:  # total = imported (Hugging Face) + local votes
        out["upvotesImported"] = item.extra["upvotes_imported"]
        out["upvotesLocal"] = item.extra["upvotes_local"]
    optional = {
        "ai_summary": p.ai_summary,
        "ai_keywords": p.ai_keywords or None,
        "githubRepo": p.code_url,
        "projectPage": p.project_url,
        "organization": _organization(item.organization),
    }
    out.update({k: v for k, v in optional.items() if v})
    if p.published_approx:  # local: publishedAt is only the month in the arXiv id
        out["publishedAtApproximate"] = True
    if p.code_url and p.code_stars is not None:
        out["githubStars"] = p.code_stars
    return out


def daily_json(item: FeedItem, base_url: str) -> dict:
    """One entry of ``/api/daily_papers`` (also of ``/api/papers/search``)."""
    p = item.paper
    out = {
        "paper": paper_json(item, base_url),
        "publishedAt": _iso(_listed_moment(item)),
        "title": " ".join(p.title.split()),
        "thumbnail": p.thumbnail_url or f"{base_url}/static/img/thumbnail.svg",
        "numComments": item.comments,
    }
    submitter = _user(item.submitter, item.submitter_fullname)
    if submitter:
        out["submittedBy"] = submitter
    org = _organization(item.organization)
    if org:
        out["organization"] = org
    return out


def paper_info_json(item: FeedItem, base_url: str) -> dict:
    out = paper_json(item, base_url)
    out["numComments"] = item.comments
    if item.day is not None:
        out["submittedOnDailyAt"] = _iso(_listed_moment(item))
    submitter = _user(item.submitter, item.submitter_fullname)
    if submitter:
        out["submittedOnDailyBy"] = submitter
    return out


@router.get("/api/daily_papers", summary="Daily papers (Hugging Face format)")
def daily_papers(
    request: Request,
    store: StoreDep,
    base: BaseUrlDep,
    p: Annotated[int, Query(ge=0, le=10_000, description="page number, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="papers per page")] = 50,
    sort: Annotated[str | None, Query(description="publishedAt or trending")] = None,
    date: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
    submitter: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict]:
    if sort not in (None, "publishedAt", "trending"):
        raise BadInput(f"sort: expected publishedAt or trending, got {sort[:40]!r}")
    period = parse_period(date, week, month)
    # Hugging Face's own default for a date, week or month: most upvoted first (ties: the later
    # listing first); without one, the newest
    order = parse_sort(sort, default="newest" if period is None else "upvotes")
    if period is None:
        latest = store.feeds.latest_day()
        if latest is None:
            return []
        # like Hugging Face: without a date, the most recent papers across the last days
        period = Period(latest - timedelta(days=RECENT_DAYS - 1), latest + timedelta(days=1),
                        "range")
    page = store.feeds.listed(period, sort=order, limit=limit, offset=p * limit,
                              submitter=clean(submitter, "submitter", 255) or None)
    return [daily_json(item, base) for item in page.items]


@router.get("/api/papers/search", summary="Search papers (Hugging Face format)")
def papers_search(
    store: StoreDep,
    base: BaseUrlDep,
    search: SearchDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    limit: Annotated[int, Query(ge=1, le=120)] = 50,
) -> list[dict]:
    query = clean(q)
    if not query:
        return []
    try:
        results = search.search(query, None, limit=limit, explain=False)
    except QueryError as exc:
        raise BadInput(f"q: {exc}") from None
    return [daily_json(item, base) for item in results.items]


@router.get("/api/papers/{paper_id:path}", summary="One paper (Hugging Face format)")
def paper_info(paper_id: str, store: StoreDep, base: BaseUrlDep) -> dict:
    key = parse_paper_id(paper_id)
    items = store.feeds.items_for([key]) if key else []
    if not items:
        raise HTTPException(404, f"paper {paper_id[:80]!r} not found")
    return paper_info_json(items[0], base)
