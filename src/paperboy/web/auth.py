"""Who is asking: session cookies for browsers, Bearer API tokens for scripts.

- The session cookie ``pb_session`` holds a random token (the database keeps its SHA-256). It is
  HttpOnly, SameSite=Lax, Secure when the instance's ``base_url`` is https, and replaced by a new
  one at every sign-in (session fixation cannot carry over).
- ``Authorization: Bearer pbt_...`` authenticates API scripts with a personal token. Such
  requests carry no cookie-based authority, so they need no CSRF token.
- :func:`install` registers the template context (``current_user`` for the header and partials)
  and the per-app rate limiter; the app factory calls it for every router module that has one.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response

from paperboy.community.ratelimit import DEFAULT_RULES, RateLimited, RateLimiter, Rule
from paperboy.storage.accounts import SESSION_TTL, User

SESSION_COOKIE = "pb_session"
_UNSET = object()


class LoginRequired(HTTPException):
    def __init__(self, next_path: str = "/"):
        super().__init__(401, "sign in first")
        self.next_path = next_path


def limiter(request: Request) -> RateLimiter:
    state = request.app.state
    found = getattr(state, "rate_limiter", None)
    if found is None:
        found = state.rate_limiter = new_limiter(state.settings)
    return found


def new_limiter(settings) -> RateLimiter:
    """The app's limiter: the default rules, with the mail limits the settings give."""
    return RateLimiter({
        **DEFAULT_RULES,
        "mail:ip": Rule(settings.mail_requests_per_client, 3600),
        "mail:all": Rule(settings.mail_requests_per_hour, 3600),
    })


def mail_rate_limit(request: Request) -> None:
    """Every endpoint that can make the server send a mail counts here: per client and for the
    whole server, so no client (nor many together) can turn it into a mail cannon."""
    rate_limit(request, "mail:ip", client_ip(request))
    rate_limit(request, "mail:all", "all")


def client_ip(request: Request) -> str:
    """The peer address (put a proxy's X-Forwarded-For into uvicorn's --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def rate_limit(request: Request, rule: str, key: str) -> None:
    """Count one event; a request over the limit gets 429 with Retry-After."""
    try:
        limiter(request).hit(rule, key)
    except RateLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def current_user(request: Request) -> User | None:
    """The signed-in user (cached per request), or None."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached
    store = request.app.state.store
    user = None
    token = bearer_token(request)
    if token is not None:
        user = store.accounts.user_for_api_token(token)
        if user is None:
            raise HTTPException(401, "invalid or revoked API token",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.via_token = True
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = store.accounts.user_for_session(cookie)
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path if request.method == "GET" else "/")
    return user


def require_admin(request: Request) -> User:
    user = require_user(request)
    if not user.is_admin:
        raise HTTPException(403, "only administrators can do that")
    return user


def require_session_user(request: Request) -> User:
    """The user signed in with a password (a session), never an API token: a leaked token must
    not be able to mint more tokens, revoke them or change the password."""
    user = require_user(request)
    if getattr(request.state, "via_token", False):
        raise HTTPException(403, "an API token cannot manage API tokens or the password; "
                                 "sign in on the site to do that")
    return user


CurrentUser = Annotated[User | None, Depends(current_user)]
UserDep = Annotated[User, Depends(require_user)]
SessionUserDep = Annotated[User, Depends(require_session_user)]
AdminDep = Annotated[User, Depends(require_admin)]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    secure = request.app.state.settings.base_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_TTL.total_seconds()),
                        path="/", httponly=True, samesite="lax", secure=secure)


def clear_session_cookie(request: Request, response: Response) -> None:
    secure = request.app.state.settings.base_url.startswith("https://")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site relative paths (no //host, no scheme, no backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value) or len(value) > 500:
        return default
    return value


def signin_url(next_path: str) -> str:
    return "/signin?next=" + quote(safe_next(next_path), safe="/")


def _template_context(request: Request) -> dict:
    try:
        user = current_user(request)
    except HTTPException:  # a bad Bearer token on an HTML page: treat as anonymous
        user = None
    return {"current_user": user, "card_actions_included": True}


def install(app) -> None:
    """Per-app wiring: template context, rate limiter, 'sign in first' redirects."""
    from fastapi.responses import RedirectResponse

    from paperboy.web.errors import error_response, wants_json

    if getattr(app.state, "auth_installed", False):
        return
    app.state.auth_installed = True
    from paperboy.secret_key import load_secret_key

    app.state.secret_key = load_secret_key(app.state.settings.data_dir)
    templates = app.state.templates
    if _template_context not in templates.context_processors:
        templates.context_processors.append(_template_context)
    templates.env.globals.setdefault("signin_url", signin_url)
    if not hasattr(app.state, "rate_limiter"):
        app.state.rate_limiter = new_limiter(app.state.settings)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if wants_json(request):
            return error_response(request, 401, "sign in or send an API token (Bearer)",
                                  headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(signin_url(exc.next_path), status_code=303)
