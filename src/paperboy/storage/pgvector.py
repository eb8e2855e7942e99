"""PostgreSQL: stored vectors in pgvector columns with an HNSW index, shared by every process.

One table per embedding model (``doc_vectors_<hash of the model name>``, listed in
``vector_tables`` with its dimension, migration 0006_pgvector): ``doc_id`` (the search document,
deleted with it) and ``vec vector(DIM)`` with an HNSW index for cosine distance, bulk-built once
the table reaches ``HNSW_MIN_ROWS`` vectors (below that, queries are exact scans) and grown row by
row after. The model's dimension is only known once its first vectors arrive, hence a table per
model made on demand rather than a column in the migration.

The table mirrors the ``embeddings`` rows of its model and is consistent with them by
construction: ``SearchIndexRepository.put_embeddings`` writes both in one transaction. Creating a
table (first vectors of a model, or a database that held vectors before pgvector) copies the
model's existing embeddings in the same transaction that creates it, under an exclusive advisory
lock per model; every writer takes the same lock shared, so no committed embedding is ever
missing from its table.

Queries: nearest neighbours by ``vec <=> query`` (cosine distance) through the HNSW index, with
``hnsw.ef_search`` set for the transaction; or an exact scan, optionally restricted to given
doc ids. The exact query orders by ``cosine_distance()``, the function behind ``<=>``, which no
index can serve, so it is a scan whatever the planner's settings or a cached plan. Vectors travel as pgvector text literals
(``[0.1,-0.2,...]``), so nothing beyond psycopg is needed.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Sequence

import numpy as np
import orjson
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

#: HNSW build parameters (pgvector's defaults; m = graph degree, like usearch's connectivity 16).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: The HNSW index is built once a table holds this many vectors: below, queries scan exactly
#: anyway (paperboy.search.pgvectors.EXACT_BELOW), and bulk-building the graph is many times
#: faster than growing it row by row (a full re-embed fills a fresh table first).
HNSW_MIN_ROWS = 10_000
#: pgvector's upper bound for hnsw.ef_search; an HNSW scan returns at most ef_search rows.
MAX_EF_SEARCH = 1000
_BATCH = 5000


def table_name(model: str) -> str:
    """The vector table of a model: a fixed name derived from the model name (never pasted)."""
    return "doc_vectors_" + hashlib.blake2b(model.encode(), digest_size=8).hexdigest()


def _lock_key(model: str) -> int:
    return int.from_bytes(hashlib.blake2b(b"paperboy-vectors:" + model.encode(),
                                          digest_size=8).digest(), "big", signed=True)


def vector_literal(vec: np.ndarray) -> str:
    """pgvector's text form of a vector: ``[x,y,...]`` (shortest float32 digits)."""
    return orjson.dumps(np.asarray(vec, dtype=np.float32).reshape(-1),
                        option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _parse(literal: str) -> np.ndarray:
    return np.asarray(orjson.loads(literal), dtype=np.float32)


class PgVectorRepository:
    """The SQL of the pgvector tables (PostgreSQL only)."""

    def __init__(self, engine):
        self.engine = engine
        self._available: bool | None = None
        self._tables: dict[str, tuple[str, int]] = {}
        self._indexed: set[str] = set()

    # -- availability and tables ------------------------------------------------------------

    def available(self) -> bool:
        """True when the database has the ``vector`` extension and the ``vector_tables``
        registry (checked once per process; without them the in-process index serves)."""
        if self._available is None:
            if self.engine.dialect.name != "postgresql":
                self._available = False
            else:
                with self.engine.connect() as conn:
                    self._available = bool(conn.execute(text(
                        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') "
                        "AND to_regclass('vector_tables') IS NOT NULL")).scalar())
                if not self._available:
                    log.warning("PostgreSQL without the pgvector extension: vectors are served "
                                "in-process (CREATE EXTENSION vector, then restart)")
        return self._available

    def table(self, model: str, conn=None) -> tuple[str, int] | None:
        """(table name, dimension) of the model's vector table, or None when it has none."""
        if model in self._tables:
            return self._tables[model]
        sql = text("SELECT table_name, dim FROM vector_tables WHERE model = :m")
        if conn is None:
            with self.engine.connect() as c:
                row = c.execute(sql, {"m": model}).first()
        else:
            row = conn.execute(sql, {"m": model}).first()
        if row is None:
            return None
        found = (str(row[0]), int(row[1]))
        if conn is None:  # only committed rows are cached
            self._tables[model] = found
        return found

    def lock_shared(self, conn, model: str) -> None:
        """Writers of ``model``'s embeddings hold this until they commit (see ensure_table)."""
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(model)})

    def ensure_table(self, model: str, dim: int) -> tuple[str, int]:
        """The model's vector table, created (and filled from ``embeddings``) when missing."""
        found = self.table(model)
        if found is not None:
            if found[1] != dim:
                raise ValueError(f"vectors of dimension {dim} for model {model!r}, "
                                 f"stored as {found[1]}")
            return found
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(model)})
            found = self.table(model, conn)
            if found is None:
                found = self._create(conn, model, dim)
        self._tables[model] = found
        return found

    def _create(self, conn, model: str, dim: int) -> tuple[str, int]:
        if not 0 < int(dim) <= 2000:
            raise ValueError(f"pgvector's HNSW index takes 1..2000 dimensions, not {dim}")
        name = table_name(model)
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # left by a failed rebuild
        conn.execute(text(
            f"CREATE TABLE {name} (doc_id BIGINT PRIMARY KEY "
            f"REFERENCES search_docs(doc_id) ON DELETE CASCADE, vec vector({int(dim)}) NOT NULL)"))
        # Keep vectors inline in the heap (no TOAST detour for dimensions above ~500).
        conn.execute(text(f"ALTER TABLE {name} ALTER COLUMN vec SET STORAGE MAIN"))
        copied = self._copy_embeddings(conn, model, name, dim)
        if copied >= HNSW_MIN_ROWS:
            self._build_index(conn, name, dim, copied)
        conn.execute(text(
            "INSERT INTO vector_tables(model, table_name, dim) VALUES (:m, :t, :d)"),
            {"m": model, "t": name, "d": int(dim)})
        if copied:
            log.info("vector table for %s filled with %d stored vectors", model, copied)
        return name, int(dim)

    def _build_index(self, conn, name: str, dim: int, rows: int) -> None:
        # Enough maintenance memory for the graph to be built in memory (far faster).
        mem_mb = min(2048, max(64, int(rows * (dim * 4 + 8 * HNSW_M * 2) * 1.5 / 2**20)))
        conn.execute(text("SELECT set_config('maintenance_work_mem', :v, true)"),
                     {"v": f"{mem_mb}MB"})
        conn.execute(text(
            f"CREATE INDEX IF NOT EXISTS {name}_hnsw ON {name} USING hnsw (vec vector_cosine_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"))

    def ensure_index(self, model: str) -> bool:
        """Build the model's HNSW index once its table is large enough (after a write commits:
        the exclusive lock waits for other writers, so no two transactions race to build it).
        Returns whether the table has the index."""
        found = self.table(model)
        if found is None:
            return False
        name, dim = found
        if name in self._indexed:
            return True
        with self.engine.begin() as conn:
            if conn.execute(text("SELECT to_regclass(:i)"), {"i": f"{name}_hnsw"}).scalar() is None:
                rows = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                if rows < HNSW_MIN_ROWS:
                    return False
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(model)})
                self._build_index(conn, name, dim, rows)
                log.info("HNSW index built over %d vectors of %s", rows, model)
        self._indexed.add(name)
        return True

    def _copy_embeddings(self, conn, model: str, name: str, dim: int) -> int:
        """Fill a new table from the model's float32 ``embeddings`` rows (same transaction)."""
        last, copied = 0, 0
        while True:
            rows = conn.execute(text(
                "SELECT e.seq, d.doc_id, e.vector FROM embeddings e "
                "JOIN search_docs d ON d.paper_id = e.paper_id "
                "WHERE e.model = :m AND e.seq > :s ORDER BY e.seq LIMIT :n"),
                {"m": model, "s": last, "n": _BATCH}).all()
            if not rows:
                return copied
            last = int(rows[-1][0])
            mat = np.frombuffer(b"".join(bytes(r[2]) for r in rows), dtype="<f4")
            mat = mat.reshape(len(rows), -1)
            if mat.shape[1] != dim:
                raise ValueError(f"stored vectors of {model!r} have dimension {mat.shape[1]}, "
                                 f"not {dim}")
            self._upsert(conn, name, dim, "doc_id", [int(r[1]) for r in rows], mat)
            copied += len(rows)

    @staticmethod
    def _upsert(conn, name: str, dim: int, key: str, keys: list, mat: np.ndarray) -> None:
        """Insert or replace vectors, keyed by doc id (``key='doc_id'``) or by paper id."""
        lits = [vector_literal(v) for v in mat]
        if key == "doc_id":
            source = ("SELECT v.doc_id, CAST(v.vec AS vector) FROM "
                      "unnest(CAST(:keys AS bigint[]), CAST(:vecs AS text[])) AS v(doc_id, vec)")
        else:
            source = ("SELECT d.doc_id, CAST(v.vec AS vector) FROM "
                      "unnest(CAST(:keys AS text[]), CAST(:vecs AS text[])) AS v(paper_id, vec) "
                      "JOIN search_docs d ON d.paper_id = v.paper_id")
        conn.execute(text(
            f"INSERT INTO {name}(doc_id, vec) {source} "
            "ON CONFLICT (doc_id) DO UPDATE SET vec = EXCLUDED.vec"),
            {"keys": keys, "vecs": lits})

    def write(self, conn, model: str, paper_ids: Sequence[str], mat: np.ndarray) -> None:
        """Mirror vectors just written to ``embeddings`` (inside that same transaction; the
        caller took :meth:`lock_shared` and the table exists)."""
        name, dim = self.table(model, conn) or (None, 0)
        if name is None:
            raise RuntimeError(f"no vector table for {model!r}")
        if mat.shape[1] != dim:
            raise ValueError(f"vectors of dimension {mat.shape[1]} for {model!r}, stored as {dim}")
        for start in range(0, len(paper_ids), _BATCH):
            self._upsert(conn, name, dim, "paper_id", list(paper_ids[start:start + _BATCH]),
                         mat[start:start + _BATCH])

    def drop(self, conn, keep: str | None = None, model: str | None = None) -> None:
        """Drop the vector tables of ``model`` (None: every model), or of all but ``keep``."""
        rows = conn.execute(text("SELECT model, table_name FROM vector_tables")).all()
        for m, name in rows:
            if (keep is not None and m == keep) or (model is not None and m != model):
                continue
            conn.execute(text(f"DROP TABLE IF EXISTS {table_name(m)}"))
            conn.execute(text("DELETE FROM vector_tables WHERE model = :m"), {"m": m})
            self._tables.pop(m, None)
            self._indexed.discard(table_name(m))

    def rebuild(self, model: str) -> int:
        """Re-derive the model's table from ``embeddings`` in one transaction (readers wait for
        the commit, then see the new table); returns its row count (0: no vectors, no table)."""
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(model)})
            self.drop(conn, model=model)
            first = conn.execute(text(
                "SELECT vector FROM embeddings WHERE model = :m LIMIT 1"), {"m": model}).scalar()
            if first is None:
                return 0
            name, _ = self._create(conn, model, len(bytes(first)) // 4)
            count = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
        self._tables.pop(model, None)
        return int(count)

    # -- reads ------------------------------------------------------------------------------

    def _read(self, model: str, run, default):
        """``run(conn, table)`` on the model's table; ``default`` when it has none (or another
        process dropped it since it was looked up)."""
        found = self.table(model)
        if found is None:
            return default
        with self.engine.connect() as conn:
            try:
                return run(conn, found[0])
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != "42P01":  # undefined_table
                    raise
                self._tables.pop(model, None)
                return default

    def count(self, model: str) -> int:
        return self._read(model, lambda conn, t: int(
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()), 0)

    def vector(self, model: str, doc_id: int) -> np.ndarray | None:
        lit = self._read(model, lambda conn, t: conn.execute(
            text(f"SELECT vec::text FROM {t} WHERE doc_id = :d"), {"d": int(doc_id)}).scalar(),
            None)
        return None if lit is None else _parse(lit)

    def vectors(self, model: str, doc_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """doc id -> vector for those of ``doc_ids`` that have one (one query)."""
        if len(doc_ids) == 0:
            return {}
        rows = self._read(model, lambda conn, t: conn.execute(text(
            f"SELECT doc_id, vec::text FROM {t} WHERE doc_id = ANY(CAST(:ids AS bigint[]))"),
            {"ids": [int(d) for d in doc_ids]}).all(), [])
        return {int(d): _parse(lit) for d, lit in rows}

    @staticmethod
    def _nearest_sql(table: str) -> str:
        return (f"SELECT doc_id, vec <=> CAST(:q AS vector) AS dist FROM {table} "
                "ORDER BY dist LIMIT :k")

    @staticmethod
    def _exact_sql(table: str, filtered: bool) -> str:
        # The function form of <=> computes the same distance, but an index can only serve an
        # ORDER BY on the operator: this is always a scan, whatever the planner settings.
        where = "WHERE doc_id = ANY(CAST(:ids AS bigint[])) " if filtered else ""
        return (f"SELECT doc_id, cosine_distance(vec, CAST(:q AS vector)) AS dist FROM {table} "
                f"{where}ORDER BY dist, doc_id LIMIT :k")

    def nearest(self, model: str, query: np.ndarray, k: int, ef_search: int = 200
                ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top ``k`` (doc ids, cosine distances) through the HNSW index. An HNSW
        scan yields at most ``ef_search`` rows, so it is raised to ``k`` (up to 1000)."""
        if k <= 0:
            return _empty()
        ef = max(1, min(MAX_EF_SEARCH, max(int(ef_search), int(k))))

        def run(conn, t):
            conn.execute(text("SELECT set_config('hnsw.ef_search', :v, true)"), {"v": str(ef)})
            return conn.execute(text(self._nearest_sql(t)),
                                {"q": vector_literal(query), "k": int(k)}).all()

        return _arrays(self._read(model, run, []))

    def exact(self, model: str, query: np.ndarray, k: int,
              doc_ids: Sequence[int] | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top ``k`` (doc ids, cosine distances) by scanning every vector (or only those of
        ``doc_ids``); never the index."""
        if k <= 0:
            return _empty()
        params = {"q": vector_literal(query), "k": int(k)}
        if doc_ids is not None:
            params["ids"] = np.asarray(doc_ids, dtype=np.int64).tolist()
        rows = self._read(model, lambda conn, t: conn.execute(
            text(self._exact_sql(t, doc_ids is not None)), params).all(), [])
        return _arrays(rows)

    def explain(self, model: str, query: np.ndarray, k: int, exact: bool = False) -> str:
        """The plan of :meth:`nearest`'s (or :meth:`exact`'s) query, for tests and benchmarks."""
        found = self.table(model)
        sql = self._exact_sql(found[0], False) if exact else self._nearest_sql(found[0])
        with self.engine.connect() as conn:
            conn.execute(text("SELECT set_config('hnsw.ef_search', '200', true)"))
            rows = conn.execute(text("EXPLAIN " + sql),
                                {"q": vector_literal(query), "k": int(k)}).scalars()
            return "\n".join(rows)


def _empty() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)


def _arrays(rows) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return _empty()
    return (np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows)))
