"""An upvote clicked while signed out, carried through sign-in and recorded right after it.

The ▲ of a signed-out reader links to the sign-in page with ``vote=`` a signed, expiring token
naming the paper. The sign-in (or sign-up) page says why an account is needed and carries the
token in its form; its POST, CSRF-checked like any form, signs the reader in and then records
the vote (set, never toggled). Nothing changes on a GET, and a token cannot be forged or reused
for another paper.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from paperboy.errors import NotFound
from paperboy.web.auth import rate_limit, safe_next

MAX_AGE_S = 24 * 3600
_SALT = "paperboy.pending-vote"


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt=_SALT)


def vote_token(request: Request, paper_id: str) -> str:
    return _serializer(request).dumps(paper_id)


def read_vote_token(request: Request, token: str | None) -> str | None:
    """The paper id a pending-vote token names, or None (absent, forged or expired)."""
    if not token or len(token) > 300:
        return None
    try:
        value = _serializer(request).loads(token, max_age=MAX_AGE_S)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return value if isinstance(value, str) else None


def signin_to_vote_url(request: Request, paper_id: str, next_path: str | None = None) -> str:
    """Where a signed-out ▲ leads: sign in, then back to ``next_path`` with the vote recorded."""
    if next_path is None:
        next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return (f"/signin?next={quote(safe_next(next_path), safe='/')}"
            f"&vote={quote(vote_token(request, paper_id), safe='')}")


def record_pending_vote(request: Request, store, user, token: str | None) -> None:
    """After a successful sign-in: the vote the token carries, if any (rate limits apply)."""
    paper_id = read_vote_token(request, token)
    if paper_id is None:
        return
    try:
        rate_limit(request, "vote:user", str(user.id))
        store.community.set_upvote(user.id, paper_id, on=True)
    except (HTTPException, NotFound):  # too many votes, or the paper is gone: still signed in
        pass
