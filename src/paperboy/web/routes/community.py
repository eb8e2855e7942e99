"""Upvotes, discussions, submissions, collections and moderation (HTML forms + JSON API).

Every state change is a POST (or DELETE) behind the CSRF check; HTML forms redirect (303) so a
reload never repeats them. The JSON upvote endpoint serves the page's script (CSRF header) and
API scripts (Bearer token, no cookie, no CSRF token needed).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Callable
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from paperboy.community import submit as submitting
from paperboy.community.bibtex import bibtex
from paperboy.community.markdown import MAX_COMMENT_CHARS, render_comment, safe_url
from paperboy.errors import NotFound
from paperboy.ids import normalize_paper_id
from paperboy.storage.accounts import User
from paperboy.storage.community import Collection, CollectionExists
from paperboy.validation import MAX_COLLECTION_NAME, MAX_DESCRIPTION, MAX_NOTE
from paperboy.web import auth
from paperboy.web.auth import AdminDep, CurrentUser, UserDep
from paperboy.web.deps import CsrfDep, SearchDep, SettingsDep, StoreDep, TemplatesDep
from paperboy.web.pending import signin_to_vote_url

html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["community"])

FormStr = Annotated[str, Form(max_length=20_000)]


def _paper_key(raw: str) -> str:
    key = normalize_paper_id(raw[:300])
    if key is None:
        raise HTTPException(404, f"no paper {raw[:80]!r} here")
    return key


def _back(next_path: str | None, default: str) -> RedirectResponse:
    return RedirectResponse(auth.safe_next(next_path, default), status_code=303)


# -- upvotes ------------------------------------------------------------------------------

def _vote(request: Request, store, user: User, paper_id: str, on: bool | None) -> dict:
    auth.rate_limit(request, "vote:user", str(user.id))
    auth.rate_limit(request, "vote:ip", auth.client_ip(request))
    key = _paper_key(paper_id)
    try:
        upvoted = store.community.set_upvote(user.id, key, on=on)
    except NotFound:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here") from None
    counts = store.community.counts([key])[key]
    return {"paper_id": key, "upvoted": upvoted, **counts.as_dict()}


@html.post("/papers/{paper_id:path}/upvote")
def upvote_form(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                next: FormStr = ""):
    """Toggle the user's upvote (the no-JavaScript path) and go back."""
    result = _vote(request, store, user, paper_id, None)
    return _back(next, f"/papers/{result['paper_id']}")


class VoteBody(BaseModel):
    upvoted: bool | None = Field(None, description="true: vote, false: take back, absent: toggle")


class VoteOut(BaseModel):
    paper_id: str
    upvoted: bool
    upvotes: int = Field(description="upvotes_imported + upvotes_local")
    upvotes_imported: int = Field(description="upvotes imported from Hugging Face")
    upvotes_local: int = Field(description="upvotes by this instance's users")
    comments: int
    comments_imported: int
    comments_local: int


@api.post("/papers/{paper_id:path}/upvote", response_model=VoteOut,
          summary="Vote for a paper (toggle, or set with {\"upvoted\": true|false})")
def upvote_api(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
               body: VoteBody | None = None):
    return _vote(request, store, user, paper_id, body.upvoted if body else None)


@api.delete("/papers/{paper_id:path}/upvote", response_model=VoteOut, summary="Take back a vote")
def unvote_api(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep):
    return _vote(request, store, user, paper_id, False)


@api.get("/papers/{paper_id:path}/community", summary="Upvote and comment counts of a paper")
def paper_community(paper_id: str, store: StoreDep, user: CurrentUser) -> dict:
    key = _paper_key(paper_id)
    if store.community.is_paper_hidden(key) in (None, True):
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    out = store.community.counts([key])[key].as_dict()
    out["paper_id"] = key
    if user is not None:
        out["upvoted"] = key in store.community.has_upvoted(user.id, [key])
    return out


# -- comments -----------------------------------------------------------------------------

class CommentIn(BaseModel):
    body: str = Field(max_length=MAX_COMMENT_CHARS, description="Markdown (safe subset)")


def _comment_json(c, viewer: User | None) -> dict:
    shown = not c.deleted and (not c.hidden or (viewer is not None and viewer.is_admin))
    return {"id": c.id, "paper_id": c.paper_id, "author": c.username,
            "created_at": c.created_at.isoformat() + "Z",
            "edited_at": c.edited_at.isoformat() + "Z" if c.edited_at else None,
            "deleted": c.deleted, "hidden": c.hidden,
            "body": c.body if shown else None,
            "html": render_comment(c.body) if shown else None}


@api.get("/papers/{paper_id:path}/comments", summary="The discussion of a paper, oldest first")
def list_comments(paper_id: str, store: StoreDep, viewer: CurrentUser) -> dict:
    key = _paper_key(paper_id)
    if store.community.is_paper_hidden(key) in (None, True):
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    thread = store.community.comments_for(key)
    return {"data": [_comment_json(c, viewer) for c in thread], "count": len(thread)}


@api.post("/papers/{paper_id:path}/comments", status_code=201,
          summary="Comment on a paper (session + CSRF header, or Bearer token)")
def post_comment_api(paper_id: str, body: CommentIn, request: Request, store: StoreDep,
                     user: UserDep, _: CsrfDep) -> dict:
    text = _comment_body(body.body)
    auth.rate_limit(request, "comment:user", str(user.id))
    auth.rate_limit(request, "comment:ip", auth.client_ip(request))
    key = _paper_key(paper_id)
    try:
        cid = store.community.add_comment(user.id, key, text)
    except NotFound:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here") from None
    return _comment_json(store.community.get_comment(cid), user)


def _comment_body(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if not body:
        raise HTTPException(422, "body: the comment is empty")
    if len(body) > MAX_COMMENT_CHARS:
        raise HTTPException(422, f"body: at most {MAX_COMMENT_CHARS} characters")
    return body


@html.post("/papers/{paper_id:path}/comments")
def add_comment(paper_id: str, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                body: FormStr = ""):
    text = _comment_body(body)
    auth.rate_limit(request, "comment:user", str(user.id))
    auth.rate_limit(request, "comment:ip", auth.client_ip(request))
    key = _paper_key(paper_id)
    try:
        cid = store.community.add_comment(user.id, key, text)
    except NotFound:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here") from None
    return RedirectResponse(f"/papers/{key}#comment-{cid}", status_code=303)


def _own_comment(store, user: User, comment_id: int):
    comment = store.community.get_comment(comment_id)
    if comment is None or comment.user_id != user.id or comment.deleted or comment.hidden:
        raise HTTPException(404, "no such comment of yours")
    return comment


@html.get("/comments/{comment_id}/edit")
def edit_comment_form(comment_id: int, request: Request, store: StoreDep,
                      templates: TemplatesDep, user: UserDep):
    comment = _own_comment(store, user, comment_id)
    return templates.render(request, "community/comment_edit.html", {"comment": comment})


@html.post("/comments/{comment_id}/edit")
def edit_comment(comment_id: int, request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                 body: FormStr = ""):
    comment = _own_comment(store, user, comment_id)
    auth.rate_limit(request, "write:user", str(user.id))
    store.community.edit_comment(comment_id, user.id, _comment_body(body))
    return RedirectResponse(f"/papers/{comment.paper_id}#comment-{comment_id}", status_code=303)


@html.post("/comments/{comment_id}/delete")
def delete_comment(comment_id: int, store: StoreDep, user: UserDep, _: CsrfDep):
    comment = _own_comment(store, user, comment_id)
    store.community.delete_comment(comment_id, user.id)
    return RedirectResponse(f"/papers/{comment.paper_id}#discussion", status_code=303)


@html.post("/comments/{comment_id}/hide")
def hide_comment(comment_id: int, store: StoreDep, admin: AdminDep, _: CsrfDep):
    return _moderate_comment(store, comment_id, True)


@html.post("/comments/{comment_id}/unhide")
def unhide_comment(comment_id: int, store: StoreDep, admin: AdminDep, _: CsrfDep):
    return _moderate_comment(store, comment_id, False)


def _moderate_comment(store, comment_id: int, hidden: bool):
    comment = store.community.get_comment(comment_id)
    if comment is None:
        raise HTTPException(404, "no such comment")
    store.community.set_comment_hidden(comment_id, hidden)
    return RedirectResponse(f"/papers/{comment.paper_id}#comment-{comment_id}", status_code=303)


@html.post("/papers/{paper_id:path}/hide")
def hide_paper(paper_id: str, store: StoreDep, admin: AdminDep, _: CsrfDep):
    return _moderate_paper(store, paper_id, True)


@html.post("/papers/{paper_id:path}/unhide")
def unhide_paper(paper_id: str, store: StoreDep, admin: AdminDep, _: CsrfDep):
    return _moderate_paper(store, paper_id, False)


def _moderate_paper(store, paper_id: str, hidden: bool):
    """Back to the paper's page either way: administrators still see a hidden paper there,
    with the way back (Unhide)."""
    key = _paper_key(paper_id)
    if not store.community.set_paper_hidden(key, hidden):
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    return RedirectResponse(f"/papers/{key}", status_code=303)


@html.get("/admin/hidden")
def hidden_papers(request: Request, store: StoreDep, templates: TemplatesDep, admin: AdminDep):
    """What administrators hid, each a link to its page and its Unhide button."""
    items = store.feeds.items_for(store.community.hidden_paper_ids(), include_hidden=True)
    return templates.render(request, "list.html", {
        "heading": "Hidden papers", "kind": "Moderation", "items": items, "page_obj": None,
        "page": 1, "nav": "admin",
        "subheading": f"{len(items)} hidden from readers; open one to unhide it"})


# -- submissions --------------------------------------------------------------------------

@html.get("/submit")
def submit_form(request: Request, templates: TemplatesDep, user: UserDep):
    return templates.render(request, "community/submit.html", {"nav": "submit"})


@html.post("/submit")
def submit_paper(request: Request, store: StoreDep, settings: SettingsDep, search: SearchDep,
                 templates: TemplatesDep, user: UserDep, _: CsrfDep, paper: FormStr = ""):
    auth.rate_limit(request, "submit:user", str(user.id))
    today = datetime.now(timezone.utc).astimezone(ZoneInfo(settings.timezone)).date()
    transport = getattr(request.app.state, "arxiv_transport", None)  # tests: a local server
    try:
        key = submitting.submit(store, settings, user.username, paper, today,
                                transport=transport, searcher=search.searcher)
    except submitting.AlreadyHere as exc:
        return templates.render(request, "community/submit.html",
                                {"existing": exc.paper_id, "value": paper[:300],
                                 "errors": [f"{exc.paper_id} is already here; no need to submit it."]},
                                status_code=409)
    except submitting.SubmitError as exc:
        return templates.render(request, "community/submit.html",
                                {"errors": [str(exc)], "value": paper[:300]}, status_code=422)
    return RedirectResponse(f"/papers/{key}", status_code=303)


# -- collections --------------------------------------------------------------------------

def _visible_collection(store, collection_id: int, viewer: User | None) -> Collection:
    """A collection the viewer may see; private ones are 404 (not 403) for everyone else."""
    coll = store.community.get_collection(collection_id)
    if coll is None or (not coll.is_public and (viewer is None or viewer.id != coll.user_id)):
        raise HTTPException(404, "no such collection")
    return coll


def _collection_fields(name: str, description: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name or len(name) > MAX_COLLECTION_NAME:
        raise HTTPException(422, f"name: 1 to {MAX_COLLECTION_NAME} characters")
    if len(description) > MAX_DESCRIPTION:
        raise HTTPException(422, f"description: at most {MAX_DESCRIPTION} characters")
    return name, description.strip()


@html.get("/collections")
def my_collections(request: Request, store: StoreDep, templates: TemplatesDep, user: UserDep,
                   paper: str | None = None):
    key = normalize_paper_id(paper[:300]) if paper else None
    return templates.render(request, "community/collections.html",
                            {"collections": store.community.collections_of(user.id),
                             "paper": key, "values": {}, "nav": "collections"})


@html.post("/collections")
def create_collection(request: Request, store: StoreDep, templates: TemplatesDep, user: UserDep,
                      _: CsrfDep, name: FormStr = "", description: FormStr = "",
                      public: FormStr = "", paper_id: FormStr = ""):
    auth.rate_limit(request, "write:user", str(user.id))
    name, description = _collection_fields(name, description)
    try:
        cid = store.community.create_collection(user.id, name, description, bool(public))
    except CollectionExists as exc:
        return templates.render(request, "community/collections.html",
                                {"collections": store.community.collections_of(user.id),
                                 "errors": [str(exc)], "paper": normalize_paper_id(paper_id) if paper_id else None,
                                 "values": {"name": name, "description": description,
                                            "public": bool(public)}}, status_code=409)
    key = normalize_paper_id(paper_id[:300]) if paper_id else None
    if key:
        try:
            store.community.add_to_collection(cid, user.id, key)
        except NotFound:
            pass
    return RedirectResponse(f"/collections/{cid}", status_code=303)


@html.post("/collections/add")
def add_to_collection(request: Request, store: StoreDep, user: UserDep, _: CsrfDep,
                      collection_id: Annotated[int, Form()], paper_id: FormStr = "",
                      note: FormStr = ""):
    auth.rate_limit(request, "write:user", str(user.id))
    if len(note) > MAX_NOTE:
        raise HTTPException(422, f"note: at most {MAX_NOTE} characters")
    key = _paper_key(paper_id)
    try:
        added = store.community.add_to_collection(collection_id, user.id, key, note.strip())
    except NotFound:
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here") from None
    if not added:
        raise HTTPException(404, "no such collection")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@html.post("/collections/{collection_id}/remove")
def remove_from_collection(collection_id: int, store: StoreDep, user: UserDep, _: CsrfDep,
                           paper_id: FormStr = ""):
    _visible_collection(store, collection_id, user)
    key = _paper_key(paper_id)
    if not store.community.remove_from_collection(collection_id, user.id, key):
        raise HTTPException(404, "no such paper in your collection")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@html.post("/collections/{collection_id}/edit")
def edit_collection(collection_id: int, request: Request, store: StoreDep, user: UserDep,
                    _: CsrfDep, name: FormStr = "", description: FormStr = "",
                    public: FormStr = ""):
    auth.rate_limit(request, "write:user", str(user.id))
    name, description = _collection_fields(name, description)
    try:
        changed = store.community.update_collection(collection_id, user.id, name, description,
                                                    bool(public))
    except CollectionExists as exc:
        raise HTTPException(409, str(exc)) from None
    if not changed:
        raise HTTPException(404, "no such collection")
    return RedirectResponse(f"/collections/{collection_id}", status_code=303)


@html.post("/collections/{collection_id}/delete")
def delete_collection(collection_id: int, store: StoreDep, user: UserDep, _: CsrfDep):
    if not store.community.delete_collection(collection_id, user.id):
        raise HTTPException(404, "no such collection")
    return RedirectResponse("/collections", status_code=303)


def _collection_json(coll: Collection, items) -> dict:
    def paper_dict(it):
        p = it.paper
        return {"id": p.id, "title": p.title, "authors": p.authors,
                "published": p.published.isoformat() if p.published else None,
                "categories": p.categories, "abs_url": p.abs_url, "pdf_url": p.pdf_url,
                "doi": p.doi, "journal_ref": p.journal_ref, "note": it.note,
                "added_at": it.added_at.isoformat()}

    return {"id": coll.id, "name": coll.name, "description": coll.description,
            "owner": coll.owner, "public": coll.is_public,
            "created_at": coll.created_at.isoformat(), "updated_at": coll.updated_at.isoformat(),
            "papers": [paper_dict(it) for it in items]}


@html.get("/collections/{collection_id}.bib")
def collection_bibtex(collection_id: int, store: StoreDep, viewer: CurrentUser):
    coll = _visible_collection(store, collection_id, viewer)
    items = store.community.collection_items(coll.id)
    return PlainTextResponse(bibtex(it.paper for it in items),
                             media_type="application/x-bibtex; charset=utf-8",
                             headers={"Content-Disposition": f'inline; filename="collection-{coll.id}.bib"'})


@html.get("/collections/{collection_id}.json")
def collection_export_json(collection_id: int, store: StoreDep, viewer: CurrentUser):
    coll = _visible_collection(store, collection_id, viewer)
    data = _collection_json(coll, store.community.collection_items(coll.id))
    return JSONResponse(data,
                        headers={"Content-Disposition": f'inline; filename="collection-{coll.id}.json"'})


@html.get("/collections/{collection_id}")
def collection_page(collection_id: int, request: Request, store: StoreDep,
                    templates: TemplatesDep, viewer: CurrentUser):
    coll = _visible_collection(store, collection_id, viewer)
    return templates.render(request, "community/collection.html",
                            {"coll": coll, "items": store.community.collection_items(coll.id),
                             "own": viewer is not None and viewer.id == coll.user_id,
                             "nav": "collections"})


@api.get("/collections/{collection_id}", summary="A collection as JSON (private: owner only)")
def collection_api(collection_id: int, store: StoreDep, viewer: CurrentUser) -> dict:
    coll = _visible_collection(store, collection_id, viewer)
    return _collection_json(coll, store.community.collection_items(coll.id))


#: one flat router (html pages hidden from the OpenAPI schema, the API shown)
router = APIRouter()
router.routes.extend(html.routes + api.routes)


def page_data(store) -> Callable:
    """What the partials show for the viewer, read once per page: which of the page's papers
    they upvoted, and on a paper's page its counts, its discussion and their collections."""

    def provide(request: Request, name: str, ctx: dict, paper_ids: list[str]) -> dict:
        user = ctx.get("current_user")
        data = {"upvoted_ids": (store.community.has_upvoted(user.id, paper_ids)
                                if user is not None and paper_ids else set())}
        if name == "paper.html":
            pid = ctx["item"].paper.id
            data["vote_counts"] = store.community.counts([pid])[pid]
            data["comments_thread"] = store.community.comments_for(pid)
            data["my_collections"] = store.community.collections_of(user.id) if user else []
        return data

    return provide


def install(app) -> None:
    """Per-app wiring: sessions and rate limits (auth), the viewer's page data for the
    partials (vote state, counts, comments, collections) and the comment filters."""
    auth.install(app)
    templates = app.state.templates
    env = templates.env
    if "comment_html" in env.filters:
        return
    templates.page_data.append(page_data(app.state.store))
    env.globals["signin_to_vote_url"] = signin_to_vote_url  # builds a URL; reads nothing
    env.filters["comment_html"] = lambda text: Markup(render_comment(text or ""))
    env.filters["safe_url"] = safe_url  # imported links: http(s)/mailto only
