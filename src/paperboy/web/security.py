"""Secret key, CSRF protection and security headers for every response.

- The secret key comes from :mod:`paperboy.secret_key` (``<data_dir>/secret_key``).
- CSRF: each browser gets a random id in an HttpOnly ``pb_csrf`` cookie; a token is that id
  signed with the secret key. Forms carry it in a hidden ``csrf_token`` field
  (``{{ csrf_field(request) }}`` in a template), scripts send it in an ``X-CSRF-Token`` header
  (read from ``<meta name="csrf-token">``). The dependency :func:`require_csrf` checks it, and also
  refuses requests whose ``Origin`` / ``Sec-Fetch-Site`` says they come from another site.
  Requests carrying an ``Authorization: Bearer`` header (scripts with an API token) are exempt:
  a browser never adds that header to a cross-site request on its own.
- :class:`SecurityMiddleware` (pure ASGI, cheap) sets the cookie when missing and adds CSP
  (no inline script), ``X-Content-Type-Options``, ``frame-ancestors`` and friends.
"""

from __future__ import annotations

import hmac
import secrets
import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup, escape

CSRF_COOKIE = "pb_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class CsrfSigner:
    def __init__(self, secret_key: str):
        self._serializer = URLSafeSerializer(secret_key, salt="paperboy.csrf")

    def token_for(self, browser_id: str) -> str:
        return self._serializer.dumps(browser_id)

    def valid(self, token: str | None, browser_id: str | None) -> bool:
        if not token or not browser_id:
            return False
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, browser_id)


def _browser_id(request: Request) -> str | None:
    state_id = getattr(request.state, "csrf_id", None)
    return state_id or request.cookies.get(CSRF_COOKIE)


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser (template global and for JSON clients); signed once per
    request (a page of cards carries it in several forms per card)."""
    cached = getattr(request.state, "csrf_token", None)
    if cached is not None:
        return cached
    signer: CsrfSigner = request.app.state.csrf
    browser_id = _browser_id(request)
    if not browser_id:  # only outside the middleware (should not happen)
        browser_id = secrets.token_urlsafe(24)
        request.state.csrf_id = browser_id
    token = request.state.csrf_token = signer.token_for(browser_id)
    return token


def csrf_field(request: Request) -> Markup:
    """A hidden form input carrying the CSRF token."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (
        CSRF_FIELD,
        escape(csrf_token(request)),
    )


def _same_origin(request: Request, origin: str) -> bool:
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return False
    host = request.headers.get("host", "")
    if parts.netloc == host:
        return True
    base = urlsplit(request.app.state.settings.base_url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


async def require_csrf(request: Request) -> None:
    """Dependency for every state-changing route: valid token and no cross-site origin."""
    if request.method in SAFE_METHODS:
        return
    auth = request.headers.get("authorization", "")
    # A Bearer request is authenticated by its token alone (paperboy.web.auth ignores the
    # session cookie then), and no browser adds that header to a cross-site request; script
    # clients that keep cookies (requests.Session, httpx.Client) must not start failing.
    if auth.lower().startswith("bearer "):
        return
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(request, origin):
        raise HTTPException(403, "cross-origin request refused")
    if origin == "null" or request.headers.get("sec-fetch-site") == "cross-site":
        raise HTTPException(403, "cross-site request refused")
    token = request.headers.get(CSRF_HEADER)
    if not token:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    signer: CsrfSigner = request.app.state.csrf
    if not signer.valid(token, request.cookies.get(CSRF_COOKIE)):
        raise HTTPException(403, "missing or invalid CSRF token; reload the page and try again")


class SecurityMiddleware:
    """Adds security headers and ``Server-Timing: app;dur=<ms>``, and issues the per-browser
    CSRF cookie (pure ASGI, so it costs microseconds)."""

    def __init__(self, app, secure_cookies: bool = False):
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        browser_id = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                try:
                    jar = SimpleCookie(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is just ignored
                    jar = {}
                if CSRF_COOKIE in jar and jar[CSRF_COOKIE].value:
                    browser_id = jar[CSRF_COOKIE].value
        new_cookie = None
        if not browser_id or len(browser_id) > 64:
            browser_id = secrets.token_urlsafe(24)
            new_cookie = browser_id
        scope.setdefault("state", {})["csrf_id"] = browser_id
        started = time.perf_counter()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # time spent in the app until the response starts (benchmarks read it)
                elapsed_ms = (time.perf_counter() - started) * 1000.0
                headers.append((b"server-timing", f"app;dur={elapsed_ms:.2f}".encode()))
                present = {k.lower() for k, _ in headers}
                for key, val in SECURITY_HEADERS:
                    if key not in present:
                        headers.append((key, val))
                if new_cookie is not None:
                    cookie = (
                        f"{CSRF_COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Lax; "
                        f"Max-Age=31536000"
                    )
                    if self.secure_cookies:
                        cookie += "; Secure"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
