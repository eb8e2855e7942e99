"""Counts in messages: "1 paper", "2 papers" (no "1 papers need ...")."""

from __future__ import annotations


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb agreeing with ``n`` ("needs" / "need")."""
    return singular if n == 1 else plural
