""""For you": the personal feed, its settings, "more/less like this", the private feed and API.

Everything here belongs to the signed-in reader alone: no route takes another reader's id, so
another reader's signals or recommendations cannot even be named; the private feed is found by
its secret token only (an unknown or revoked token is a 404). State changes are POSTs behind
the CSRF check (HTML forms redirect with 303); scripts use the JSON API with a Bearer token.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from paperboy.errors import NotFound
from paperboy.recommend.library_import import import_library
from paperboy.recommend.rules import RuleError, parse_rule
from paperboy.recommend.service import Recommendation, RecommendService
from paperboy.search.query import parse_query
from paperboy.sources.library import MAX_LIBRARY_BYTES, LibraryError
from paperboy.storage.feeds import Period
from paperboy.storage.signals import FOLLOW_KINDS, LimitReached
from paperboy.web import auth
from paperboy.web.auth import UserDep
from paperboy.web.deps import CsrfDep, SettingsDep, StoreDep, TemplatesDep
from paperboy.web.params import parse_date, parse_paper_id, parse_period

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["For you"])

FormStr = Annotated[str, Form(max_length=2000)]
PAGE_SIZE = 30
NO_STORE = {"Cache-Control": "no-store"}
#: rendered "Why this paper?" fragments kept per process (a few kB each)
WHY_KEPT = 2048


def service(request: Request) -> RecommendService:
    return request.app.state.recommend


def _key(paper_id: str) -> str:
    key = parse_paper_id(paper_id)
    if key is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    return key


def _back(next_path: str | None, default: str) -> RedirectResponse:
    return RedirectResponse(auth.safe_next(next_path, default), status_code=303)


def _latest(store, settings) -> date:
    from paperboy.mail.digest import local_today

    return store.feeds.latest_day() or local_today(settings)


# -- the page -------------------------------------------------------------------------------

@html.get("/for-you")
def for_you(request: Request, store: StoreDep, settings: SettingsDep, templates: TemplatesDep,
            user: UserDep, date: str | None = None, week: str | None = None,
            month: str | None = None,
            page: Annotated[int, Query(ge=1, le=1000)] = 1):
    period = parse_period(date, week, month) or Period.day(_latest(store, settings))
    result = service(request).recommend(user.id, period, limit=PAGE_SIZE,
                                        offset=(page - 1) * PAGE_SIZE)
    items = store.feeds.items_for([r.paper_id for r in result.items])
    why = {r.paper_id: r for r in result.items}
    prev_p, next_p = store.feeds.neighbours(period)
    context = {"period": period, "items": items, "why": why, "total": result.total,
               "has_signals": result.has_signals, "page": page,
               "has_more": page * PAGE_SIZE < result.total, "prev_period": prev_p,
               "next_period": next_p, "nav": "for-you",
               "categories": store.feeds.categories(24) if not result.has_signals else []}
    return templates.render(request, "for_you.html", context, headers=NO_STORE)


# -- settings: follows, rules, library, signals, private feed ----------------------------------

def _settings_page(request, store, templates, user, status=200, **ctx):
    sig = store.signals
    context = {"nav": "for-you", "follows": sig.follows(user.id), "rules": sig.rules(user.id),
               "signals": sig.signals(user.id), "library": sig.library(user.id),
               "feed_since": sig.feed_token_created(user.id), "follow_kinds": FOLLOW_KINDS,
               "max_mb": MAX_LIBRARY_BYTES // (1024 * 1024),
               "categories": store.feeds.categories(24), **ctx}
    return templates.render(request, "for_you_settings.html", context, status_code=status,
                            headers=NO_STORE)


@html.get("/for-you/settings")
def for_you_settings(request: Request, store: StoreDep, templates: TemplatesDep, user: UserDep):
    return _settings_page(request, store, templates, user)


@html.post("/for-you/follows")
def add_follow(request: Request, store: StoreDep, templates: TemplatesDep, user: UserDep,
               _: CsrfDep, kind: FormStr = "", value: FormStr = "", next: FormStr = ""):
    auth.rate_limit(request, "write:user", str(user.id))
    value = " ".join(value.split())
    if kind not in FOLLOW_KINDS or not value or len(value) > 300:
        return _settings_page(request, store, templates, user, status=422,
                              errors=[f"Follow an {', '.join(FOLLOW_KINDS)} by name "
                                      "(1 to 300 characters)."])
    try:
        store.signals.follow(user.id, kind, value)
    except LimitReached as exc:
        return _settings_page(request, store, templates, user, status=422, errors=[str(exc)])
    return _back(next, "/for-you/settings")


@html.post("/for-you/categories")
async def follow_categories(request: Request, store: StoreDep, user: UserDep, _: CsrfDep):
    """The empty state's "pick categories": each ticked box becomes a category follow."""
    auth.rate_limit(request, "write:user", str(user.id))
    form = await request.form()
    known = {c for c, _ in store.feeds.categories(200)}
    for value in form.getlist("category")[:50]:
        if isinstance(value, str) and value in known:
            try:
                store.signals.follow(user.id, "category", value)
            except LimitReached:
                break
    return RedirectResponse("/for-you", status_code=303)


@html.post("/for-you/follows/{follow_id}/delete")
def delete_follow(follow_id: int, store: StoreDep, user: UserDep, _: CsrfDep):
    if not store.signals.unfollow(user.id, follow_id):
        raise HTTPException(404, "no such follow of yours")
    return RedirectResponse("/for-you/settings#follows", status_code=303)


@html.post("/for-you/rules")
def add_rule(request: Request, store: StoreDep, templates: TemplatesDep, user: UserDep,
             _: CsrfDep, rule: FormStr = ""):
    auth.rate_limit(request, "write:user", str(user.id))
    try:
        action, query = parse_rule(rule, parse_query)
        store.signals.add_rule(user.id, action, query)
    except (RuleError, LimitReached) as exc:
        return _settings_page(request, store, templates, user, status=422, errors=[str(exc)],
                              rule_value=rule[:300])
    return RedirectResponse("/for-you/settings#rules", status_code=303)


@html.post("/for-you/rules/{rule_id}/delete")
def delete_rule(rule_id: int, store: StoreDep, user: UserDep, _: CsrfDep):
    if not store.signals.remove_rule(user.id, rule_id):
        raise HTTPException(404, "no such rule of yours")
    return RedirectResponse("/for-you/settings#rules", status_code=303)


@html.post("/for-you/library")
async def import_library_form(request: Request, store: StoreDep, settings: SettingsDep,
                              templates: TemplatesDep, user: UserDep, _: CsrfDep,
                              file: Annotated[UploadFile | None, File()] = None,
                              ids: Annotated[str, Form(max_length=200_000)] = ""):
    """Upload a BibTeX / RIS file, or paste arXiv ids / URLs, one a line."""
    auth.rate_limit(request, "write:user", str(user.id))
    if file is not None and file.filename:
        data = await file.read(MAX_LIBRARY_BYTES + 1)
        name = _safe_name(file.filename)
    else:
        data, name = ids.encode(), "pasted list"
    transport = getattr(request.app.state, "arxiv_transport", None)
    try:
        report = import_library(store, settings, user.id, data, name, transport=transport,
                                fmt=None if file is not None and file.filename else "list")
    except LibraryError as exc:
        return _settings_page(request, store, templates, user, status=422, errors=[str(exc)])
    return _settings_page(request, store, templates, user, import_report=report)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:100] or "upload"


@html.post("/for-you/library/remove")
def remove_from_library(store: StoreDep, user: UserDep, _: CsrfDep, paper_id: FormStr = "",
                        all: FormStr = ""):
    store.signals.remove_from_library(user.id, None if all else _key(paper_id))
    return RedirectResponse("/for-you/settings#library", status_code=303)


@html.post("/for-you/signals/remove")
def remove_signal(store: StoreDep, user: UserDep, _: CsrfDep, paper_id: FormStr = ""):
    try:
        store.signals.set_signal(user.id, _key(paper_id), None)
    except NotFound:
        raise HTTPException(404, "no such paper") from None
    return RedirectResponse("/for-you/settings#signals", status_code=303)


@html.post("/for-you/feed-token")
def new_feed_token(request: Request, store: StoreDep, settings: SettingsDep,
                   templates: TemplatesDep, user: UserDep, _: CsrfDep):
    auth.rate_limit(request, "write:user", str(user.id))
    token = store.signals.new_feed_token(user.id)
    base = settings.base_url.rstrip("/")
    return _settings_page(request, store, templates, user,
                          feed_urls={"atom": f"{base}/for-you/feed/{token}.atom",
                                     "rss": f"{base}/for-you/feed/{token}.rss"})


@html.post("/for-you/feed-token/revoke")
def revoke_feed_token(store: StoreDep, user: UserDep, _: CsrfDep):
    store.signals.revoke_feed_token(user.id)
    return RedirectResponse("/for-you/settings#feed", status_code=303)


# -- more / less like this -------------------------------------------------------------------

def _signal(request: Request, store, user, paper_id: str, kind: str | None) -> dict:
    auth.rate_limit(request, "vote:user", str(user.id))
    key = _key(paper_id)
    try:
        now = store.signals.set_signal(user.id, key, kind)
    except NotFound:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here") from None
    return {"paper_id": key, "signal": now}


@html.post("/papers/{paper_id:path}/more")
def more_like_this(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                   next: FormStr = ""):
    """Toggle "more like this" (the no-JavaScript path) and go back."""
    key = _key(paper_id)
    current = store.signals.signals_for(user.id, [key]).get(key)
    result = _signal(request, store, user, key, None if current == "more" else "more")
    return _back(next, f"/papers/{result['paper_id']}")


@html.post("/papers/{paper_id:path}/less")
def less_like_this(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                   next: FormStr = ""):
    key = _key(paper_id)
    current = store.signals.signals_for(user.id, [key]).get(key)
    result = _signal(request, store, user, key, None if current == "less" else "less")
    return _back(next, f"/papers/{result['paper_id']}")


class SignalBody(BaseModel):
    signal: Literal["more", "less"] | None = Field(
        None, description='"more" (more like this), "less" (less like this) or null (clear)')


class SignalOut(BaseModel):
    paper_id: str
    signal: Literal["more", "less"] | None


@api.post("/papers/{paper_id:path}/signal", response_model=SignalOut,
          summary="Say \"more like this\" / \"less like this\" about a paper, or clear it")
def signal_api(paper_id: str, body: SignalBody, request: Request, store: StoreDep,
               user: UserDep, _: CsrfDep):
    return _signal(request, store, user, paper_id, body.signal)


# -- the private feed ------------------------------------------------------------------------

@html.get("/for-you/feed/{token}.{fmt}")
def private_feed(token: str, fmt: Literal["rss", "atom"], request: Request, store: StoreDep,
                 settings: SettingsDep):
    """A reader's recommendations of the last 7 days, for feed readers (which cannot sign in):
    the secret token in the URL is the only key."""
    from paperboy.web.routes.feeds import render_feed

    user_id = store.signals.user_for_feed_token(token)
    user = store.accounts.get(user_id) if user_id is not None else None
    if user is None or user.disabled:
        raise HTTPException(404, "no such feed")
    latest = _latest(store, settings)
    period = Period(latest - timedelta(days=6), latest + timedelta(days=1), "range")
    result = service(request).recommend(user.id, period, limit=50)
    items = store.feeds.items_for([r.paper_id for r in result.items])
    base = settings.base_url.rstrip("/")
    response = render_feed(fmt, f"For {user.username} — Paperboy", f"{base}/for-you/feed/{token}.{fmt}",
                           f"{base}/for-you", items, base)
    response.headers["cache-control"] = "private, max-age=300"
    response.headers["x-robots-tag"] = "noindex"
    return response


# -- API and export ----------------------------------------------------------------------------

@api.get("/me/recommendations",
         summary="Your recommendations of a date range, each with its explanation")
def my_recommendations(
    request: Request, store: StoreDep, settings: SettingsDep, user: UserDep,
    since: Annotated[str | None, Query(description="YYYY-MM-DD (default: until)")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD (default: the latest day)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    from paperboy.web.routes.api_v1 import item_json

    end = parse_date(until, "until") if until else _latest(store, settings)
    start = parse_date(since, "since") if since else end
    if start > end:
        raise HTTPException(422, "since: after until")
    if (end - start).days > 92:
        raise HTTPException(422, "since: at most 93 days before until")
    period = Period(start, end + timedelta(days=1), "range")
    result = service(request).recommend(user.id, period, limit=limit)
    items = {i.id: i for i in store.feeds.items_for([r.paper_id for r in result.items])}
    base = settings.base_url.rstrip("/")
    data = []
    for rec in result.items:
        item = items.get(rec.paper_id)
        if item is None:
            continue
        item.extra["score"] = round(rec.score, 4)
        item.extra["explanation"] = rec.as_dict()
        data.append(item_json(item, base))
    return {"data": data, "count": result.total, "limit": limit, "since": start.isoformat(),
            "until": end.isoformat(), "has_signals": result.has_signals}


@html.get("/account/for-you.json")
def export_signals(request: Request, store: StoreDep, settings: SettingsDep, user: UserDep):
    """Everything For you keeps about the reader, and their latest day's recommendations."""
    latest = _latest(store, settings)
    recs = service(request).recommend(user.id, Period.day(latest), limit=100)
    data = {"username": user.username, **store.signals.export(user.id),
            "recommendations": {"day": latest.isoformat(),
                                "papers": [{"id": r.paper_id, **r.as_dict()} for r in recs.items]}}
    return JSONResponse(data, headers={**NO_STORE, "Content-Disposition":
                                       'attachment; filename="paperboy-for-you.json"'})


@html.post("/account/for-you/delete")
def delete_signals(request: Request, store: StoreDep, user: UserDep, _: CsrfDep):
    store.signals.delete_all(user.id)
    service(request).forget(user.id)
    return RedirectResponse("/account?for_you_deleted=1", status_code=303)


router = APIRouter()
router.routes.extend(html.routes + api.routes)


def install(app) -> None:
    """The app's ranking service, and the viewer's marks the card partials show."""
    auth.install(app)
    if getattr(app.state, "recommend", None) is None:
        app.state.recommend = RecommendService(app.state.store, app.state.settings, parse_query)
    store = app.state.store

    def signals(request: Request, name: str, ctx: dict, paper_ids: list[str]) -> dict:
        """The viewer's "more / less like this" marks on the page's papers (one query)."""
        user = ctx.get("current_user")
        if user is None or not paper_ids:
            return {"signals": {}}
        return {"signals": store.signals.signals_for(user.id, paper_ids)}

    if not any(getattr(f, "__name__", "") == "signals" for f in app.state.templates.page_data):
        app.state.templates.page_data.append(signals)

    why_template = app.state.templates.env.get_template("partials/for_you_why.html")

    @lru_cache(maxsize=WHY_KEPT)
    def why_fragment(reasons: tuple, liked: tuple, words: tuple) -> Markup:
        rec = Recommendation("", 0.0, list(reasons), list(liked), list(words))
        return Markup(why_template.render(rec=rec))

    def why_html(rec: Recommendation) -> Markup:
        """A card's "Why this paper?", rendered once per explanation: it depends on nothing
        but the explanation, and the page shows the same ones on every reload."""
        return why_fragment(tuple(rec.reasons), tuple(rec.liked), tuple(rec.words))

    app.state.templates.env.globals["why_html"] = why_html
