"""Server-rendered pages: daily feed, paper page, search, author, organization, trending.

Everything works without JavaScript; static/js/app.js only adds niceties (instant search).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from paperboy.plural import count_of
from paperboy.query import QueryError
from paperboy.storage.feeds import Period
from paperboy.web.auth import current_user
from paperboy.web.deps import SearchDep, SettingsDep, StoreDep, TemplatesDep
from paperboy.web.markdown import paper_markdown
from paperboy.web.params import clean, parse_paper_id, parse_period, parse_sort, search_filters
from paperboy.web.searching import saved_query
from paperboy.web.templating import fmt_date

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
SORT_LABELS = {"trending": "Trending", "upvotes": "Most upvoted", "newest": "Newest"}
PageNo = Annotated[int, Query(ge=1, le=10_000, description="page number, from 1")]


def _today(settings) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(timezone.utc).astimezone(ZoneInfo(settings.timezone)).date()


def _period_params(period: Period) -> dict:
    key = {"day": "date", "week": "week", "month": "month"}.get(period.kind, "date")
    return {key: period.label}


def _feed(request: Request, store, templates, settings, period: Period | None, sort: str,
          page: int, is_home: bool, with_code: bool = False):
    feeds = store.feeds
    if period is None:
        latest = feeds.latest_day() or _today(settings)
        period = Period.day(latest)
    result = feeds.listed(period, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                          with_code=with_code)
    prev_p, next_p = feeds.neighbours(period)
    # a neighbour holding only papers no daily list featured (say, a snapshot import years
    # back) is labelled as such, so the jump does not surprise
    unlisted = {p.label for p in (prev_p, next_p) if p and not feeds.has_listings(p)}
    return templates.render(
        request,
        "feed.html",
        {
            "period": period,
            "page_obj": result,
            "items": result.items,
            "sort": sort,
            "sort_labels": SORT_LABELS,
            "page": page,
            "prev_period": prev_p,
            "next_period": next_p,
            "unlisted_periods": unlisted,
            "period_params": _period_params,
            "is_home": is_home,
            "nav": "daily",
            "with_code": with_code,
        },
    )


@router.get("/")
def home(request: Request, store: StoreDep, templates: TemplatesDep, settings: SettingsDep,
         sort: str | None = None, page: PageNo = 1, code: bool = False):
    return _feed(request, store, templates, settings, None, parse_sort(sort), page, True, code)


@router.get("/papers")
def papers_feed(
    request: Request, store: StoreDep, templates: TemplatesDep, settings: SettingsDep,
    date: str | None = None, week: str | None = None, month: str | None = None,
    sort: str | None = None, page: PageNo = 1, code: bool = False,
):
    period = parse_period(date, week, month)
    return _feed(request, store, templates, settings, period, parse_sort(sort), page, False, code)


@router.get("/trending")
def trending(request: Request, store: StoreDep, templates: TemplatesDep, page: PageNo = 1,
             days: Annotated[int, Query(ge=1, le=90)] = 7, code: bool = False):
    result = store.feeds.trending(days=days, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                  with_code=code)
    latest = store.feeds.latest_day()
    # the window ends at the latest day with papers, which may be long ago: say which days
    shown = (f"{fmt_date(latest - timedelta(days=days - 1))} – {fmt_date(latest)}"
             if latest else "no papers yet")
    return templates.render(
        request, "list.html",
        {"heading": "Trending", "subheading": f"{shown} ({count_of(days, 'day')} up to the "
                                               "latest with papers), by upvotes and age",
         "page_obj": result, "items": result.items, "page": page, "nav": "trending",
         "with_code": code,
         "feeds": {"rss": "/feeds/trending.rss", "atom": "/feeds/trending.atom"}},
    )


@router.get("/papers/{paper_id:path}/similar")
def similar_page(paper_id: str, request: Request, store: StoreDep, templates: TemplatesDep,
                 search: SearchDep, partial: bool = False):
    """Nearest neighbours of a paper: a fragment the paper page loads after rendering (so the
    page itself never waits for vector search), or a page of its own without JavaScript."""
    key = parse_paper_id(paper_id)
    items = store.feeds.items_for([key]) if key else []
    if not items:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    similar = search.similar(items[0].paper.id, k=6 if partial else 20)
    if partial:
        return templates.render(request, "_similar.html", {"similar": similar})
    title = " ".join(items[0].paper.title.split())
    return templates.render(
        request, "list.html",
        {"heading": f"Similar to: {title}", "kind": "Similar papers",
         "subheading": "nearest neighbours by meaning" if search.ready else
         "the search index is not built yet", "items": similar,
         "page_obj": None, "page": 1, "nav": "similar"},
    )


@router.get("/papers/{paper_id:path}")
def paper_page(paper_id: str, request: Request, store: StoreDep, templates: TemplatesDep):
    as_markdown = paper_id.endswith(".md")
    key = parse_paper_id(paper_id[:-3] if as_markdown else paper_id)
    paper = store.papers.get(key) if key else None
    if paper is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    [item] = store.feeds.items_for([paper.id]) or [None]
    hidden = item is None
    # a hidden paper is a 404 for everyone but administrators, who see it with "Unhide"
    if hidden and not as_markdown and getattr(current_user(request), "is_admin", False):
        [item] = store.feeds.items_for([paper.id], include_hidden=True) or [None]
    if item is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    if as_markdown:
        return PlainTextResponse(paper_markdown(item), media_type="text/markdown; charset=utf-8")
    listings = store.papers.listings(paper.id)
    return templates.render(
        request, "paper.html",
        {"item": item, "paper": paper, "listings": listings, "nav": "paper", "hidden": hidden},
    )


@router.get("/search")
def search_page(
    request: Request, store: StoreDep, templates: TemplatesDep, search: SearchDep,
    q: str = "", since: str | None = None, until: str | None = None,
    category: str | None = None, author: str | None = None, page: PageNo = 1,
    partial: bool = False, code: bool = False,
):
    query = clean(q)
    filters = search_filters(since, until, category, author, with_code=code)
    results, error = None, None
    if query or not filters.is_empty():
        try:
            results = search.search(query, filters, limit=20, offset=(page - 1) * 20,
                                    explain=False)  # the page highlights words itself
        except QueryError as exc:
            error = str(exc)
    context = {
        "q": query, "since": since or "", "until": until or "", "category": category or "",
        "author": author or "", "code": code, "results": results,
        "saved_q": saved_query(query, category, author, code) if results else "", "error": error, "page": page,
        "nav": "search", "categories": store.feeds.categories(30),
        "uncategorized": store.papers.count_uncategorized_listed() if category else 0,
    }
    name = "_search_results.html" if partial else "search.html"
    return templates.render(request, name, context, status_code=422 if error else 200)


@router.get("/authors/{key:path}")
def author_page(key: str, request: Request, store: StoreDep, templates: TemplatesDep,
                page: PageNo = 1):
    from paperboy.storage.papers import name_key

    folded = name_key(clean(key, "author", 300))
    name = store.feeds.author_name(folded) if folded else None
    if name is None:
        raise HTTPException(404, f"no papers by {key[:80]!r} here")
    result = store.feeds.by_author(folded, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return templates.render(
        request, "list.html",
        {"heading": name, "subheading": f"{result.total} paper{'s' if result.total != 1 else ''}",
         "page_obj": result, "items": result.items, "page": page, "nav": "author",
         "kind": "Author"},
    )


@router.get("/organizations/{name:path}")
def organization_page(name: str, request: Request, store: StoreDep, templates: TemplatesDep,
                      page: PageNo = 1):
    name = clean(name, "organization", 300)
    result = store.feeds.by_organization(name, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if result.total == 0:
        raise HTTPException(404, f"no papers from {name[:80]!r} here")
    return templates.render(
        request, "list.html",
        {"heading": name, "subheading": f"{result.total} paper{'s' if result.total != 1 else ''}",
         "page_obj": result, "items": result.items, "page": page, "nav": "organization",
         "kind": "Organization"},
    )


@router.get("/categories/{category}")
def category_page(category: str, request: Request, store: StoreDep, templates: TemplatesDep,
                  page: PageNo = 1):
    from paperboy.web.params import parse_category

    cat = parse_category(category)
    result = store.feeds.by_category(cat, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    uncategorized = store.papers.count_uncategorized_listed()
    if result.total == 0 and not uncategorized:
        raise HTTPException(404, f"no papers in {cat} here")
    return templates.render(
        request, "list.html",
        {"heading": cat, "subheading": f"{count_of(result.total, 'paper')}, newest first",
         "page_obj": result, "items": result.items, "page": page, "nav": "category",
         "kind": "Category", "uncategorized": uncategorized,
         "feeds": {"rss": f"/feeds/category/{cat}.rss", "atom": f"/feeds/category/{cat}.atom"}},
    )


@router.get("/robots.txt")
def robots() -> Response:
    return PlainTextResponse("User-agent: *\nDisallow: /search\nDisallow: /api/\n")
