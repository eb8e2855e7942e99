"""Accounts: sign up, sign in/out, password change and reset, API tokens, profile pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from paperboy.community import passwords
from paperboy.community.ratelimit import RateLimited
from paperboy.community.resets import fingerprint_matches, make_reset_token, read_reset_token
from paperboy.mail.account import send_account_mail
from paperboy.storage.accounts import AccountExists, User
from paperboy.validation import email_key, email_problem, username_key, username_problem
from paperboy.web import auth
from paperboy.web.auth import AdminDep, CurrentUser, UserDep
from paperboy.web.deps import CsrfDep, SettingsDep, StoreDep, TemplatesDep
from paperboy.web.pending import read_vote_token, record_pending_vote

html = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["accounts"])

install = auth.install
FormStr = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=passwords.MAX_LENGTH)]
NO_STORE = {"Cache-Control": "no-store"}


def _vote_context(request: Request, store, vote: str) -> dict:
    """The pending upvote a sign-in/sign-up page explains and carries (see web.pending)."""
    paper_id = read_vote_token(request, vote)
    paper = store.papers.get(paper_id) if paper_id else None
    return {"vote": vote if paper else "", "vote_paper": paper}


def _render(templates, request, name, status=200, **ctx):
    return templates.render(request, f"community/{name}", {"nav": "account", **ctx},
                            status_code=status, headers=NO_STORE)


def _sign_in(request: Request, store, user: User, next_path: str,
             vote: str = "") -> RedirectResponse:
    """A brand-new session (the old cookie's session ends: no fixation), the upvote clicked
    before signing in (if any), then go on."""
    record_pending_vote(request, store, user, vote)
    token = store.accounts.create_session(user.id, replace=request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse(auth.safe_next(next_path), status_code=303)
    auth.set_session_cookie(request, response, token)
    return response


# -- sign up ------------------------------------------------------------------------------

@html.get("/signup")
def signup_form(request: Request, store: StoreDep, templates: TemplatesDep, next: str = "/",
                vote: str = ""):
    return _render(templates, request, "signup.html", next=auth.safe_next(next), values={},
                   **_vote_context(request, store, vote))


@html.post("/signup")
def signup(request: Request, store: StoreDep, templates: TemplatesDep, _: CsrfDep,
           username: FormStr = "", email: FormStr = "", password: Password = "",
           next: FormStr = "/", vote: FormStr = ""):
    ip = auth.client_ip(request)
    auth.rate_limit(request, "signup-attempt:ip", ip)
    try:
        auth.limiter(request).check("signup:ip", ip)  # accounts created from this address
    except RateLimited as exc:
        raise HTTPException(429, f"too many new accounts from your address; retry in "
                                 f"{exc.retry_after}s", headers={"Retry-After": str(exc.retry_after)})
    username, email = username.strip(), email.strip()
    # Per target account too: probing which addresses are registered is slow from any number
    # of addresses.
    auth.rate_limit(request, "signup:account", email_key(email)[:255])
    auth.rate_limit(request, "signup:account", "name:" + username_key(username)[:40])
    errors = [e for e in (username_problem(username), email_problem(email),
                          passwords.password_problem(password, username, email)) if e]
    if not errors:
        try:
            user = store.accounts.create_user(username, email, passwords.hash_password(password))
        except AccountExists as exc:
            errors.append(str(exc))
    if errors:
        return _render(templates, request, "signup.html", status=422, errors=errors,
                       next=auth.safe_next(next), values={"username": username, "email": email},
                       **_vote_context(request, store, vote))
    auth.limiter(request).hit("signup:ip", ip)
    return _sign_in(request, store, user, next, vote)


# -- sign in / out ------------------------------------------------------------------------

@html.get("/login")
@html.get("/register")
def old_names(request: Request):
    """The names other sites use lead to ours (the query, e.g. ``next``, kept)."""
    target = "/signin" if request.url.path == "/login" else "/signup"
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(target + query, status_code=301)


@html.get("/signin")
def signin_form(request: Request, store: StoreDep, templates: TemplatesDep, next: str = "/",
                reset: bool = False, vote: str = ""):
    notice = "Your password was changed; sign in with the new one." if reset else None
    return _render(templates, request, "signin.html", next=auth.safe_next(next), login="",
                   notice=notice, **_vote_context(request, store, vote))


@html.post("/signin")
def signin(request: Request, store: StoreDep, templates: TemplatesDep, _: CsrfDep,
           login: FormStr = "", password: Password = "", next: FormStr = "/",
           vote: FormStr = ""):
    limiter = auth.limiter(request)
    auth.rate_limit(request, "login:ip", auth.client_ip(request))
    login = login.strip()
    user = store.accounts.get_by_login(login) if login else None
    account_key = f"user:{user.id}" if user else f"login:{username_key(email_key(login))[:255]}"
    try:
        limiter.check("login:account", account_key)
    except RateLimited as exc:
        raise HTTPException(429, f"too many failed sign-ins for this account; retry in "
                                 f"{exc.retry_after}s", headers={"Retry-After": str(exc.retry_after)})
    # Always one argon2 verification: against a dummy hash when the user is unknown.
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or user.disabled:
        try:
            limiter.hit("login:account", account_key)
        except RateLimited:
            pass
        return _render(templates, request, "signin.html", status=401, login=login,
                       next=auth.safe_next(next), errors=["Wrong username or password."],
                       **_vote_context(request, store, vote))
    limiter.reset("login:account", account_key)
    if passwords.needs_rehash(user.password_hash):
        store.accounts.rehash(user.id, passwords.hash_password(password))
    return _sign_in(request, store, user, next, vote)


@html.post("/signout")
def signout(request: Request, store: StoreDep, _: CsrfDep):
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        store.accounts.end_session(token)
    response = RedirectResponse("/", status_code=303)
    auth.clear_session_cookie(request, response)
    return response


# -- account settings: password, API tokens -----------------------------------------------

def _account_page(request, store, templates, user: User, status=200, **ctx):
    return _render(templates, request, "account.html", status=status, user=user,
                   tokens=store.accounts.list_api_tokens(user.id), **ctx)


@html.get("/account")
def account(request: Request, store: StoreDep, templates: TemplatesDep, user: auth.SessionUserDep):
    return _account_page(request, store, templates, user)


@html.post("/account/password")
def change_password(request: Request, store: StoreDep, templates: TemplatesDep, user: auth.SessionUserDep,
                    _: CsrfDep, current: Password = "", new: Password = "", confirm: Password = ""):
    auth.rate_limit(request, "login:account", f"user:{user.id}")
    errors = []
    if not passwords.verify_password(user.password_hash, current):
        errors.append("The current password is wrong.")
    elif new != confirm:
        errors.append("The two new passwords differ.")
    else:
        problem = passwords.password_problem(new, user.username, user.email)
        if problem:
            errors.append(problem)
    if errors:
        return _account_page(request, store, templates, user, status=422, errors=errors)
    current_session = request.cookies.get(auth.SESSION_COOKIE)
    store.accounts.set_password(user.id, passwords.hash_password(new), keep_session=current_session)
    response = _account_page(request, store, templates, store.accounts.get(user.id),
                             notice="Password changed; your other sessions were signed out.")
    if current_session and not getattr(request.state, "via_token", False):
        # a new session id as well: whoever might have copied the old one loses it
        token = store.accounts.create_session(user.id, replace=current_session)
        auth.set_session_cookie(request, response, token)
    return response


@html.post("/account/tokens")
def create_token(request: Request, store: StoreDep, templates: TemplatesDep, user: auth.SessionUserDep,
                 _: CsrfDep, name: FormStr = "token"):
    auth.rate_limit(request, "write:user", str(user.id))
    token, row = store.accounts.create_api_token(user.id, name)
    return _account_page(request, store, templates, user, new_token=token, new_token_name=row.name)


@html.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, store: StoreDep, user: auth.SessionUserDep, _: CsrfDep):
    if not store.accounts.revoke_api_token(user.id, token_id):
        raise HTTPException(404, "no such token")
    return RedirectResponse("/account", status_code=303)


# -- password reset -----------------------------------------------------------------------

@html.get("/reset")
def reset_form(request: Request, templates: TemplatesDep):
    return _render(templates, request, "reset_request.html")


@html.post("/reset")
def reset_request(request: Request, store: StoreDep, settings: SettingsDep,
                  templates: TemplatesDep, _: CsrfDep, email: FormStr = ""):
    auth.rate_limit(request, "reset:ip", auth.client_ip(request))
    auth.mail_rate_limit(request)
    email = email.strip()
    user = store.accounts.get_by_login(email) if email and "@" in email else None
    if user is not None and not user.disabled:
        try:
            auth.limiter(request).hit("reset:account", f"user:{user.id}")
        except RateLimited:
            user = None  # silently: the answer must not reveal that the account exists
    if user is not None and not user.disabled:
        token = make_reset_token(request.app.state.secret_key, user.id, user.password_hash)
        link = f"{settings.link_base_url}/reset/{token}"
        send_account_mail(
            settings, user.email, "Reset your Paperboy password",
            f"Hello {user.username},\n\nsomeone (hopefully you) asked to reset the password "
            f"of your Paperboy account. Open this link within an hour to choose a new "
            f"one:\n\n{link}\n\nIf it was not you, ignore this message; your password "
            f"stays as it is.\n")
    return _render(templates, request, "message.html", heading="Check your inbox",
                   message="If an account uses that address, a link to reset its password is "
                           "on its way. The link works for one hour.")


class _DeadResetLink(Exception):
    """A reset link that cannot be used (410: used or expired, 404: never valid); says why."""

    def __init__(self, message: str, status: int = 410):
        super().__init__(message)
        self.status = status


def _reset_user(request: Request, store, token: str) -> User:
    secret = request.app.state.secret_key
    parsed = read_reset_token(secret, token)
    if parsed is None:
        if read_reset_token(secret, token, max_age=10 * 365 * 86400) is not None:
            raise _DeadResetLink("This reset link has expired: links work for one hour.")
        raise _DeadResetLink("This reset link is not valid (perhaps it was cut short).", 404)
    user = store.accounts.get(parsed[0])
    if user is None or user.disabled:
        raise _DeadResetLink("This reset link is not valid.", 404)
    if not fingerprint_matches(user.password_hash, parsed[1]):
        raise _DeadResetLink("This reset link was already used: the password has been changed "
                             "since. If that was not you, ask for a new link.")
    return user


def _dead_reset_link(request: Request, templates, exc: _DeadResetLink):
    heading = "Reset link used up" if exc.status == 410 else "Reset link not valid"
    return _render(templates, request, "message.html", status=exc.status, heading=heading,
                   message=str(exc), link={"href": "/reset", "label": "Ask for a new reset link"})


@html.get("/reset/{token}")
def reset_password_form(token: str, request: Request, store: StoreDep, templates: TemplatesDep):
    try:
        _reset_user(request, store, token)
    except _DeadResetLink as exc:
        return _dead_reset_link(request, templates, exc)
    return _render(templates, request, "reset_form.html", token=token)


@html.post("/reset/{token}")
def reset_password(token: str, request: Request, store: StoreDep, templates: TemplatesDep,
                   _: CsrfDep, new: Password = "", confirm: Password = ""):
    auth.rate_limit(request, "reset:ip", auth.client_ip(request))
    try:
        user = _reset_user(request, store, token)
    except _DeadResetLink as exc:
        return _dead_reset_link(request, templates, exc)
    problem = ("The two passwords differ." if new != confirm
               else passwords.password_problem(new, user.username, user.email))
    if problem:
        return _render(templates, request, "reset_form.html", status=422, token=token,
                       errors=[problem])
    store.accounts.set_password(user.id, passwords.hash_password(new))
    return RedirectResponse("/signin?reset=1", status_code=303)


# -- profiles -----------------------------------------------------------------------------

@html.get("/users/{username}")
def profile(username: str, request: Request, store: StoreDep, templates: TemplatesDep,
            viewer: CurrentUser):
    user = store.accounts.get_by_username(username[:40])
    if user is None or user.disabled:
        raise HTTPException(404, f"no user {username[:40]!r}")
    own = viewer is not None and viewer.id == user.id
    upvoted = store.feeds.items_for(store.community.upvoted_by(user.id, limit=30))
    submitted = store.feeds.items_for([pid for pid, _ in store.community.submissions_of(user.username, 30)])
    collections = store.community.collections_of(user.id, public_only=not own)
    return templates.render(request, "community/profile.html",
                            {"profile": user, "own": own, "upvoted": upvoted,
                             "submitted": submitted, "collections": collections, "nav": "profile"})


@html.post("/users/{username}/disable")
def disable_user(username: str, store: StoreDep, admin: AdminDep, _: CsrfDep):
    """Administrators disable an account: sign-in refused, sessions and API tokens end."""
    user = store.accounts.get_by_username(username[:40])
    if user is None:
        raise HTTPException(404, f"no user {username[:40]!r}")
    if user.id == admin.id:
        raise HTTPException(422, "you cannot disable your own account")
    store.accounts.set_disabled(user.id, True)
    return RedirectResponse("/", status_code=303)


# -- API ----------------------------------------------------------------------------------

@api_router.get("/me", summary="The user behind the session or API token")
def me(user: UserDep) -> dict:
    return {"username": user.username, "is_admin": user.is_admin,
            "created_at": user.created_at.isoformat() + "Z"}


#: one flat router (html pages hidden from the OpenAPI schema, the API shown)
router = APIRouter()
router.routes.extend(html.routes + api_router.routes)
