"""Secondary indexes set aside while a large import loads, and rebuilt in one pass after it.

Why: an index on a column whose values arrive in random order (author names, publication
dates) takes each new row on a random leaf page. Once such an index outgrows the page cache,
nearly every row dirties a page of its own, which the commit writes to the WAL and the
checkpoint writes again. At 1,000,000 snapshot records the five secondary indexes below made the
SQLite import 1.23x slower (237 against 192 s), while building them afterwards, by sorting,
took 11 s (benchmarks/RESULTS.md, "Ingest").

Only the indexes nothing in an import reads are set aside: the primary keys and unique
constraints that upserts and ``ON CONFLICT`` rely on stay. Queries stay correct while the
indexes are missing, only slower. The import that set them aside notes its process id in ``sync_state``; an import killed
before it rebuilt them leaves them missing, and the next command that opens the store (any
``paperboy`` command, the server) puts them back, unless that import is still running.
SQLite only: PostgreSQL imports keep their indexes (several writers may share that database).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from sqlalchemy import Engine, Index

from paperboy.storage.schema import paper_authors, paper_categories, papers

#: Page cache (KiB) of the connection that rebuilds the indexes, which bounds the sort's memory.
REBUILD_CACHE_KB = 16 * 1024
#: ``sync_state`` key holding the process id of the import that set the indexes aside.
OWNER_KEY = "bulk_import:indexes_aside"

#: The tables whose secondary (non-unique) indexes a bulk import may set aside.
_TABLES = (papers, paper_authors, paper_categories)


def deferrable() -> list[Index]:
    """The secondary indexes that no write path reads."""
    return sorted((ix for table in _TABLES for ix in table.indexes if not ix.unique),
                  key=lambda ix: ix.name)


def missing(engine: Engine) -> list[str]:
    """Names of the deferrable indexes the database lacks (SQLite; always [] elsewhere)."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        present = set(conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    return [ix.name for ix in deferrable() if ix.name not in present]


def set_aside(engine: Engine) -> bool:
    """Drop the deferrable indexes for this process's import (one transaction); False where
    nothing is set aside (PostgreSQL)."""
    if engine.dialect.name != "sqlite":
        return False
    quote = engine.dialect.identifier_preparer.quote
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ")
    with engine.begin() as conn:
        for ix in deferrable():
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(ix.name)}")
        conn.exec_driver_sql(
            "INSERT INTO sync_state(key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (OWNER_KEY, str(os.getpid()), now))
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def restore(engine: Engine, owner: bool = False) -> list[str]:
    """Create the deferrable indexes that are missing; returns their names.

    ``owner``: called by the import that set them aside. Otherwise (opening the store) they are
    left to an import that is still running, which rebuilds them when it ends."""
    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as conn:
        marker = conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = ?",
                                      (OWNER_KEY,)).scalar()
    if not owner and marker and marker.isdigit() and int(marker) != os.getpid() \
            and _alive(int(marker)):
        return []
    names = missing(engine)
    if not names and marker is None:
        return []
    wanted = {ix.name: ix for ix in deferrable()}
    with engine.begin() as conn:
        # CREATE INDEX sorts in up to a page cache's worth of memory, then merges runs from
        # temporary files: 16 MB instead of the connection's 64 MB took the same time at 1M
        # papers (9.5 s) and 48 MB less memory. (Helper threads for the sort, PRAGMA threads,
        # measured no faster and took 34 MB more.)
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = {-REBUILD_CACHE_KB}")
        try:
            for name in names:
                wanted[name].create(conn, checkfirst=True)
            conn.exec_driver_sql("DELETE FROM sync_state WHERE key = ?", (OWNER_KEY,))
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return names
