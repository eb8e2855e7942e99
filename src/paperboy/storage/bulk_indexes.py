"""Secondary indexes set aside while a large import loads, and rebuilt in one pass after it.

Why: an index on a column whose values arrive in random order (author names, publication
dates) takes each new row on a random leaf page. Once such an index outgrows the page cache,
nearly every row dirties a page of its own, which the commit writes to the WAL and the
checkpoint writes again. At a million snapshot records the secondary indexes below made the
SQLite import much slower than building them afterwards, by sorting (benchmarks/RESULTS.md,
"Ingest").

Only the indexes nothing in an import reads are set aside: the primary keys and unique
constraints that upserts and ``ON CONFLICT`` rely on stay. Queries stay correct while the
indexes are missing, only slower. The import that set them aside notes its process id in
``sync_state`` (:data:`OWNER_KEY`); an import killed before it rebuilt them leaves them missing,
and the next command that opens the store (any ``paperboy`` command, the server) puts them back
(``PaperRepository.restore_indexes``), unless that import is still running.
SQLite only: PostgreSQL imports keep their indexes (several writers may share that database).
"""

from __future__ import annotations

import os

from sqlalchemy import Connection, Engine, Index

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


def drop(conn: Connection) -> None:
    """Drop the deferrable indexes, in ``conn``'s transaction (SQLite)."""
    quote = conn.dialect.identifier_preparer.quote
    for ix in deferrable():
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(ix.name)}")


def create(conn: Connection, names: list[str]) -> None:
    """Create the deferrable indexes ``names``, in ``conn``'s transaction (SQLite)."""
    wanted = {ix.name: ix for ix in deferrable()}
    # CREATE INDEX sorts in up to a page cache's worth of memory, then merges runs from
    # temporary files: 16 MB instead of the connection's 64 MB took the same time at 1M
    # papers (9.5 s) and 48 MB less memory. (Helper threads for the sort, PRAGMA threads,
    # measured no faster and took 34 MB more.)
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-REBUILD_CACHE_KB}")
    try:
        for name in names:
            wanted[name].create(conn, checkfirst=True)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


def import_running(owner: str | None) -> bool:
    """Whether the import noted as ``owner`` (a process id) is another process still alive."""
    if not owner or not owner.isdigit() or int(owner) == os.getpid():
        return False
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
