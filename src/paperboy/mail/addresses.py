"""E-mail addresses and saved-search queries, normalized so that equal things compare equal.

Addresses: trimmed, the domain lower-cased (IDNA), checked for a plausible shape (one ``@``, no
spaces or angle brackets, a dotted domain or ``localhost``, at most 254 characters). The unique key
is the whole address case-folded: mailbox names are case-sensitive in theory and never in
practice, and two rows for ``Ada@x.org`` and ``ada@x.org`` would mean two digests.

Queries: whitespace collapsed and case-folded, ``author:  X`` written ``author:x``, so "Retrieval
Heads" and "retrieval  heads" share one search when digests are composed.
"""

from __future__ import annotations

import re

_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,64}$")  # ASCII: no SMTPUTF8 needed
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_QUERY = 300


class InvalidAddress(ValueError):
    """The text is not an e-mail address Paperboy can send to (one-line message)."""


def normalize_email(raw: str) -> tuple[str, str]:
    """(address as stored, unique key) or :class:`InvalidAddress`."""
    text = (raw or "").strip()
    if not text:
        raise InvalidAddress("e-mail address is empty")
    if len(text) > 254:
        raise InvalidAddress("e-mail address is longer than 254 characters")
    if text.count("@") != 1:
        raise InvalidAddress(f"{text[:80]!r} is not an e-mail address (expected name@domain)")
    local, domain = text.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidAddress(f"{text[:80]!r}: the part before @ is not valid")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAddress(f"{text[:80]!r}: the domain is not valid") from None
    labels = domain.split(".")
    if not all(_LABEL.match(label) for label in labels) or (len(labels) < 2 and domain != "localhost"):
        raise InvalidAddress(f"{text[:80]!r}: the domain is not valid")
    address = f"{local}@{domain}"
    return address, address.casefold()


_FILTER_SPACE = re.compile(r"\b(author|cat|category):\s+", re.I)


def search_text(query: str) -> str:
    """The query as the search service reads it (``author: Karpathy`` -> ``author:Karpathy``)."""
    return _FILTER_SPACE.sub(lambda m: m.group(1) + ":", query)


def normalize_query(raw: str) -> tuple[str, str]:
    """(query as typed, trimmed; grouping key) or ValueError with a one-line message."""
    text = " ".join((raw or "").split())
    if not text:
        raise ValueError("the saved search is empty")
    if len(text) > MAX_QUERY:
        raise ValueError(f"a saved search is at most {MAX_QUERY} characters")
    key = search_text(text).casefold()
    return text, key
