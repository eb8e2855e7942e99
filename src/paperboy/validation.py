"""What a username, e-mail address, collection name and comment must look like."""

from __future__ import annotations

import re

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
RESERVED = {"admin", "administrator", "root", "paperboy", "api", "me", "new", "settings",
            "signin", "signup", "signout", "support", "system"}
MAX_COLLECTION_NAME = 100
MAX_NOTE = 2000
MAX_DESCRIPTION = 2000


def username_problem(username: str) -> str | None:
    if not USERNAME_RE.match(username):
        return ("The username must be 3-32 characters: letters, digits, '_' or '-', "
                "starting with a letter or digit.")
    if username.casefold() in RESERVED:
        return "That username is reserved."
    return None


def email_problem(email: str) -> str | None:
    if len(email) > 254 or not EMAIL_RE.match(email):
        return "That does not look like an e-mail address."
    return None


def username_key(username: str) -> str:
    return username.casefold()


def email_key(email: str) -> str:
    return email.strip().lower()
