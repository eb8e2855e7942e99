"""Random tokens for sessions and API access; only their SHA-256 digests are stored."""

from __future__ import annotations

import hashlib
import secrets

API_TOKEN_PREFIX = "pbt_"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the database keeps: a leak of the table gives no usable token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
