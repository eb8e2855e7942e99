"""Write transactions that never surface a transient lock to the user.

SQLite: the engine already takes the write lock up front (BEGIN IMMEDIATE) and waits up to the
busy timeout; a write that still finds the database locked is retried here. PostgreSQL: a
serialization failure or deadlock (SQLSTATE 40001 / 40P01) is retried the same way.
"""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")

_RETRIES = 8


def _is_transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01")


def write(engine: Engine, work: Callable[[Connection], T], retries: int = _RETRIES) -> T:
    """Run ``work(conn)`` in one transaction, retrying it whole on a transient lock error."""
    for attempt in range(retries + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (OperationalError, DBAPIError) as exc:
            if attempt >= retries or not _is_transient(exc):
                raise
            time.sleep(min(1.0, 0.02 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
