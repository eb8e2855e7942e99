"""The PostgreSQL queue of papers waiting for a vector, shared by embed workers on any machine.

Why a queue table rather than each worker scanning for missing vectors: two workers scanning
would embed the same papers. A worker claims a batch (the first unclaimed or expired rows, in id
order, ``FOR UPDATE SKIP LOCKED`` so concurrent claims never block or overlap), embeds it, and
deletes the rows in the transaction that stores the vectors
(:meth:`~paperboy.storage.search_index.SearchIndexRepository.put_embeddings`). A worker killed
mid-batch leaves its rows claimed until ``claimed_until``; then another worker takes them.
Times are the database's clock, so workers on several machines agree. See migration
0015_embed_claims.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import Connection, text

#: an advisory-lock key: one worker at a time fills the queue
_FILL_LOCK = 0x70625F656D6271


class EmbedQueue:
    """Claims of embedding work on PostgreSQL."""

    def __init__(self, engine):
        self.engine = engine

    def fill(self, model: str, batches: Iterable[Sequence[str]]) -> int:
        """Queue the papers ``batches`` yields (ids without an up-to-date vector), unless work
        for ``model`` is queued already (another worker filled it: its rows are being worked
        off). Returns how many rows were added."""
        added = 0
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FILL_LOCK})
            if self.pending(model, conn):
                return 0
            for ids in batches:
                added += conn.execute(text(
                    "INSERT INTO embed_queue (model, paper_id) SELECT :m, unnest(CAST(:ids AS text[])) "
                    "ON CONFLICT DO NOTHING"), {"m": model, "ids": list(ids)}).rowcount
        return added

    def claim(self, model: str, worker: str, batch: int, seconds: float) -> list[str]:
        """Up to ``batch`` ids nobody holds, now held by ``worker`` for ``seconds``."""
        with self.engine.begin() as conn:
            # The CTE runs once: as a subquery in FROM the planner may rescan it, and each
            # rescan skips the rows just locked and takes the next ones (a whole queue claimed).
            rows = conn.execute(text(
                "WITH free AS MATERIALIZED (SELECT paper_id FROM embed_queue WHERE model = :m AND "
                "(claimed_until IS NULL OR claimed_until < LOCALTIMESTAMP) "
                "ORDER BY paper_id LIMIT :n FOR UPDATE SKIP LOCKED) "
                "UPDATE embed_queue q SET claimed_by = :w, claims = q.claims + 1, "
                "claimed_until = LOCALTIMESTAMP + make_interval(secs => :s) FROM free "
                "WHERE q.model = :m AND q.paper_id = free.paper_id RETURNING q.paper_id"),
                {"w": worker, "s": float(seconds), "m": model, "n": int(batch)}).scalars().all()
        return sorted(rows)

    def done(self, conn: Connection, model: str, paper_ids: Sequence[str]) -> None:
        """Drop these papers from the queue, in the caller's transaction (the one storing
        their vectors)."""
        conn.execute(text("DELETE FROM embed_queue WHERE model = :m AND paper_id = ANY(:ids)"),
                     {"m": model, "ids": list(paper_ids)})

    def release(self, model: str, paper_ids: Sequence[str]) -> None:
        """Drop queued papers that need no vector after all (deleted, or embedded meanwhile)."""
        with self.engine.begin() as conn:
            self.done(conn, model, paper_ids)

    def pending(self, model: str, conn: Connection | None = None) -> int:
        """Rows still queued for ``model``, claimed or not."""
        sql = text("SELECT count(*) FROM embed_queue WHERE model = :m")
        if conn is not None:
            return conn.execute(sql, {"m": model}).scalar_one()
        with self.engine.connect() as c:
            return c.execute(sql, {"m": model}).scalar_one()

    def claims_made(self, model: str) -> int:
        """The claims the rows still queued have seen (more than one: a batch taken again)."""
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT coalesce(sum(claims), 0) FROM embed_queue "
                                     "WHERE model = :m"), {"m": model}).scalar_one()
