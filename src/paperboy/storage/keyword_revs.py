"""Keyword revs for a batch of new papers, given in one statement instead of by a trigger per row.

See migration 0007_bulk_revs: inside the caller's write transaction the insert trigger stands
aside while the batch goes in, then the new papers get consecutive revs after the counter's
value and the counter moves past them, so revs still only grow and follow commit order.
SQLite only; PostgreSQL's trigger maintains its full-text column in the same transaction.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from sqlalchemy import Connection


@contextmanager
def revs_in_bulk(conn: Connection, paper_ids: Sequence[str]) -> Iterator[None]:
    """Wrap the INSERT of the papers ``paper_ids`` (all new) in ``conn``'s transaction."""
    if conn.dialect.name != "sqlite" or not paper_ids:
        yield
        return
    conn.exec_driver_sql("UPDATE search_rev SET bulk = 1 WHERE id = 1")
    yield
    rev = conn.exec_driver_sql("SELECT rev FROM search_rev WHERE id = 1").scalar_one()
    conn.exec_driver_sql("INSERT INTO search_docs(paper_id, rev) VALUES (?, ?)",
                         [(pid, rev + i) for i, pid in enumerate(paper_ids, 1)])
    conn.exec_driver_sql("UPDATE search_rev SET rev = ?, bulk = 0 WHERE id = 1",
                         (rev + len(paper_ids),))
