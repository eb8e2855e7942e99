"""Password hashing with argon2id, and the rules a new password must meet.

Sign-in always runs one argon2 verification, against a dummy hash when the user does not exist,
so the response time does not tell whether an account exists.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 accepts any length; cap it so a 10 MB "password" costs nothing


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's RFC 9106 'low memory' defaults (t=3, m=64 MiB, p=4)."""
    return PasswordHasher(type=Type.ID)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A real argon2id hash of a random string, verified when the user is unknown."""
    import secrets

    return hasher().hash(secrets.token_urlsafe(24))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with ``stored_hash=None`` burns the same time and fails."""
    target = stored_hash or dummy_hash()
    try:
        ok = hasher().verify(target, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    lowered = password.casefold()
    for value in (username, email.split("@")[0]):
        if value and len(value) >= 3 and value.casefold() in lowered:
            return "The password must not contain your username or e-mail name."
    if len(set(password)) < 4:
        return "The password is too repetitive."
    return None
