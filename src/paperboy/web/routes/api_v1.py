"""Paperboy's native JSON API (``/api/v1``): feeds, papers, search with explanations, similar.

List answers are ``{"data": [...], "count": total, ...}``; errors are ``{"error": message}``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from paperboy.query import QueryError
from paperboy.storage.feeds import FeedItem, FeedPage, Period
from paperboy.web.deps import SearchDep, StoreDep
from paperboy.web.errors import BadInput
from paperboy.web.links import BaseUrlDep
from paperboy.web.params import (
    clean,
    parse_paper_id,
    parse_period,
    parse_sort,
    search_filters,
)
from paperboy.web.security import csrf_token

router = APIRouter(prefix="/api/v1", tags=["Paperboy API"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def item_json(item: FeedItem, base_url: str, full: bool = False) -> dict:
    p = item.paper
    out = {
        "id": p.id,
        "title": " ".join(p.title.split()),
        "authors": p.authors,
        "categories": p.categories,
        "primary_category": p.primary_category,
        "published": p.published.isoformat() + "Z" if p.published else None,
        # published is only the month of the arXiv id (the sources gave no date)
        "published_approx": bool(p.published_approx),
        "day": item.day.isoformat() if item.day else None,
        "upvotes": item.upvotes,
        "comments": item.comments,
        "organization": item.organization,
        "submitter": item.submitter,
        "url": f"{base_url}/papers/{p.id}",
        "abs_url": p.abs_url,
        "pdf_url": p.pdf_url,
        "code_url": p.code_url,
        "code_stars": p.code_stars,
        "project_url": p.project_url,
    }
    if full:
        out.update(
            abstract=p.abstract, updated=p.updated.isoformat() + "Z" if p.updated else None,
            version=p.version, doi=p.doi, journal_ref=p.journal_ref, comments_text=p.comments,
            license=p.license, ai_summary=p.ai_summary, ai_keywords=p.ai_keywords,
        )
    for key in ("score", "explanation", "upvotes_imported", "upvotes_local",
                "comments_imported", "comments_local"):
        if key in item.extra:
            out[key] = item.extra[key]
    return out


def page_json(page: FeedPage, base_url: str, **extra) -> dict:
    return {"data": [item_json(i, base_url) for i in page.items], "count": page.total,
            "limit": page.limit, "offset": page.offset, **extra}


@router.get("/feed", summary="Papers of a day, ISO week or month")
def feed(
    store: StoreDep, base: BaseUrlDep,
    date: str | None = None, week: str | None = None, month: str | None = None,
    sort: Literal["trending", "upvotes", "newest"] = "trending",
    limit: Limit = 30, offset: Offset = 0,
    code: Annotated[bool, Query(description="only papers with a code link")] = False,
) -> dict:
    period = parse_period(date, week, month)
    if period is None:
        latest = store.feeds.latest_day()
        if latest is None:
            return {"data": [], "count": 0, "limit": limit, "offset": offset, "period": None}
        period = Period.day(latest)
    page = store.feeds.listed(period, sort=parse_sort(sort), limit=limit, offset=offset,
                              with_code=code)
    prev_p, next_p = store.feeds.neighbours(period)
    return page_json(
        page, base,
        period={"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                "end": period.last.isoformat()},
        prev=prev_p.label if prev_p else None, next=next_p.label if next_p else None,
    )


@router.get("/trending", summary="Trending papers of the last days")
def trending(store: StoreDep, base: BaseUrlDep,
             days: Annotated[int, Query(ge=1, le=90)] = 7,
             limit: Limit = 30, offset: Offset = 0,
             code: Annotated[bool, Query(description="only papers with a code link")] = False,
             ) -> dict:
    return page_json(store.feeds.trending(days=days, limit=limit, offset=offset, with_code=code),
                     base, days=days)


@router.get("/search", summary="Hybrid search with filters; each hit explains itself")
def search(
    store: StoreDep, base: BaseUrlDep, search: SearchDep,
    q: Annotated[str, Query(max_length=2000, description="query; supports \"phrases\", author:, cat:")] = "",
    since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    category: str | None = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    listed: bool = False,
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid",
    limit: Limit = 20, offset: Offset = 0,
    code: Annotated[bool, Query(description="only papers with a code link (or has:code)")] = False,
) -> dict:
    query = clean(q)
    filters = search_filters(since, until, category, author, listed, with_code=code)
    if not query and filters.is_empty():
        raise BadInput("q: give a query or at least one filter")
    try:
        res = search.search(query, filters, limit=limit, offset=offset, mode=mode)
    except QueryError as exc:
        raise BadInput(f"q: {exc}") from None
    return {"data": [item_json(i, base) for i in res.items], "count": res.total,
            "matched": res.matched, "related": res.related, "related_more": res.related_more,
            "limit": limit, "offset": offset, "mode": res.mode, "message": res.message,
            "indexed": res.indexed, "highlight_terms": res.highlight_terms}


@router.get("/papers/{paper_id:path}/similar", summary="Nearest neighbours of a paper")
def similar(paper_id: str, store: StoreDep, base: BaseUrlDep, search: SearchDep,
            k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict:
    key = _existing(store, paper_id)
    items = search.similar(key, k=k)
    return {"data": [item_json(i, base) for i in items],
            "count": len(items), "indexed": search.ready}


@router.get("/papers/{paper_id:path}", summary="One paper with its listings")
def paper(paper_id: str, store: StoreDep, base: BaseUrlDep) -> dict:
    key = _existing(store, paper_id)
    [item] = store.feeds.items_for([key])
    out = item_json(item, base, full=True)
    out["listings"] = [
        {"source": r["source"], "listed_on": r["listed_on"].isoformat(), "upvotes": r["upvotes"],
         "comments": r["comments"], "submitter": r["submitter"]}
        for r in store.papers.listings(key)
    ]
    return out


@router.get("/authors/{key:path}", summary="Papers of an author (folded name)")
def author(key: str, store: StoreDep, base: BaseUrlDep,
           limit: Limit = 30, offset: Offset = 0) -> dict:
    from paperboy.storage.papers import name_key

    folded = name_key(clean(key, "author", 300))
    name = store.feeds.author_name(folded) if folded else None
    if name is None:
        raise HTTPException(404, f"no papers by {key[:80]!r}")
    return page_json(store.feeds.by_author(folded, limit=limit, offset=offset),
                     base, name=name)


@router.get("/organizations/{name:path}", summary="Papers of an organization")
def organization(name: str, store: StoreDep, base: BaseUrlDep,
                 limit: Limit = 30, offset: Offset = 0) -> dict:
    page = store.feeds.by_organization(clean(name, "organization", 300), limit=limit,
                                       offset=offset)
    if page.total == 0:
        raise HTTPException(404, f"no papers from {name[:80]!r}")
    return page_json(page, base, name=name)


@router.get("/csrf", summary="A CSRF token for this browser (send it as X-CSRF-Token)")
def csrf(request: Request) -> dict:
    return {"token": csrf_token(request)}


def _existing(store, paper_id: str) -> str:
    key = parse_paper_id(paper_id)
    if not key or not store.feeds.items_for([key]):
        raise HTTPException(404, f"paper {paper_id[:80]!r} not found")
    return key
