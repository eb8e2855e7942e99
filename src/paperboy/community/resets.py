"""Signed, expiring password-reset links.

The token signs the user id and a fingerprint of the current password hash with the instance's
secret key, so it expires after RESET_MAX_AGE_S and stops working once the password changes
(i.e. it can be used once).
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

RESET_MAX_AGE_S = 3600
_SALT = "paperboy.password-reset"


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def make_reset_token(secret_key: str, user_id: int, password_hash: str) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(
        {"u": user_id, "p": _fingerprint(password_hash)}
    )


def read_reset_token(secret_key: str, token: str, max_age: int = RESET_MAX_AGE_S) -> tuple[int, str] | None:
    """(user id, password fingerprint) of a valid token, or None when bad or expired."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    return data["u"], str(data.get("p", ""))


def fingerprint_matches(password_hash: str, fingerprint: str) -> bool:
    import hmac

    return hmac.compare_digest(_fingerprint(password_hash), fingerprint)
