"""Batch writes of papers on PostgreSQL through COPY: one round trip per table, not per row.

Row-by-row INSERTs kept the server waiting on the client for every paper, author and category
(psycopg's pipelined executemany still sends one statement per row). Here a batch goes into a
temporary staging table with COPY and reaches ``papers`` in one set-based ``INSERT ... SELECT
... ON CONFLICT DO UPDATE``; the facet rows are COPYed straight into their tables. Everything
runs inside the caller's transaction, so a killed import still leaves whole batches behind.
The merge decisions (which version wins, what a partial record may not erase, what is
unchanged) are taken before, by :func:`paperboy.storage.papers.merge_paper`, the one
definition both backends share; the staged rows are the merged rows.
"""

from __future__ import annotations

import struct
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Iterable, Sequence

import orjson
from sqlalchemy import Connection, Engine, Table

from paperboy.records import CONTENT_FIELDS, STORED_FIELDS

_STAGE = "paperboy_stage_papers"
_STAGE_TSV = "paperboy_stage_tsv"
#: the full-text vectors of texts given as arrays (fetched in binary: the COPY of the writing
#: connection hands the same bytes back)
_TSV = ("SELECT u.id, paperboy_search_tsv(u.title, u.abstract) "
        "FROM unnest(%b::text[], %b::text[], %b::text[]) AS u(id, title, abstract)")
#: the columns a staged row carries, in COPY order
COLUMNS = (*STORED_FIELDS, "content_hash", "hidden", "created_at", "modified_at")
#: what a stored paper takes from a newer merge (never its id, creation time or hidden flag)
_MERGED = (*CONTENT_FIELDS, "published_approx", "content_hash", "modified_at")
_JSON = frozenset({"authors", "categories", "ai_keywords"})


def _cursor(conn: Connection):
    return conn.connection.driver_connection.cursor()


def _copy(cur, table: str, names: Sequence[str], rows: Iterable[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _staged(rows: Iterable[dict], now: datetime) -> Iterable[tuple]:
    dumps = orjson.dumps
    json_at = [i for i, name in enumerate(COLUMNS) if name in _JSON]
    for row in rows:
        values = [row.get(name) for name in COLUMNS]
        values[0] = row.get("id") or row["b_id"]
        for i in json_at:
            values[i] = dumps(values[i]).decode()
        values[-3] = bool(values[-3])  # hidden: a merged row has none; the update keeps it
        values[-2] = values[-2] or now  # created_at, likewise
        yield tuple(values)


class FullText:
    """The full-text vectors of a batch, computed by other connections while the writing one
    stores the papers, then written by the writing one in its own transaction.

    ``to_tsvector`` is most of what a bulk import costs the server; on one connection it waits
    for everything else the batch writes. The helpers only read (a ``SELECT`` of the texts
    handed to them, nothing stored), so a batch is still one transaction of the writing
    connection: a killed import leaves whole batches, full-text rows included. ``helpers``
    connections each take a share of the texts; with none, the writing connection computes
    them itself when it writes them.
    """

    def __init__(self, engine: Engine, rows: Sequence[dict], helpers: int):
        self._texts = [_texts(rows)] if rows else []
        self._parts: list[Future] = []
        if not rows or helpers <= 0:
            return
        helpers = min(helpers, len(rows))
        size = -(-len(rows) // helpers)
        self._texts = [_texts(rows[start:start + size]) for start in range(0, len(rows), size)]
        pool = ThreadPoolExecutor(helpers, thread_name_prefix="paperboy-fulltext")
        self._parts = [pool.submit(_on_own_connection, engine, texts) for texts in self._texts]
        pool.shutdown(wait=False)  # each thread ends with its part

    def write(self, conn: Connection) -> None:
        """(Re)write the batch's ``search_docs`` rows in ``conn``'s transaction; a helper's
        error is raised here (and the transaction rolls back)."""
        if not self._texts:
            return
        cur = _cursor(conn)
        parts = ([part.result() for part in self._parts] if self._parts
                 else [_vector_rows(conn.connection.driver_connection, *self._texts[0])])
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TSV} "
                    "(paper_id text, tsv tsvector) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {_STAGE_TSV} (paper_id, tsv) FROM STDIN (FORMAT binary)") as copy:
            copy.write(_BINARY_HEADER)
            for part in parts:
                copy.write(part)
            copy.write(_BINARY_TRAILER)
        cur.execute(f"INSERT INTO search_docs (paper_id, tsv) SELECT paper_id, tsv "
                    f"FROM {_STAGE_TSV} ORDER BY paper_id "
                    "ON CONFLICT (paper_id) DO UPDATE SET tsv = EXCLUDED.tsv")

    def cancel(self) -> None:
        """Wait for the helpers (the batch failed), without their results."""
        for part in self._parts:
            part.exception()


#: COPY's binary format: signature, flags and header extension length; then per row the
#: number of fields and each field's length and bytes; -1 for the number of fields ends it
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"
_FIELD_COUNT, _LENGTH = struct.Struct("!h").pack(2), struct.Struct("!i").pack


def _texts(rows: Sequence[dict]) -> tuple[list[str], list[str], list[str]]:
    return ([r.get("id") or r["b_id"] for r in rows], [r["title"] for r in rows],
            [r["abstract"] for r in rows])


def _on_own_connection(engine: Engine, texts: tuple[list[str], list[str], list[str]]) -> bytes:
    with engine.connect() as conn:
        try:
            return _vector_rows(conn.connection.driver_connection, *texts)
        finally:
            conn.rollback()


def _vector_rows(driver_conn, ids: list[str], titles: list[str], abstracts: list[str]) -> bytes:
    """The binary COPY rows (paper id, full-text vector) of these texts."""
    cur = driver_conn.cursor(binary=True)
    cur.execute(_TSV, (ids, titles, abstracts))
    out = []
    for paper_id, tsv in cur:
        key = paper_id.encode()
        out += (_FIELD_COUNT, _LENGTH(len(key)), key, _LENGTH(len(tsv)), tsv)
    return b"".join(out)


def merge_papers(conn: Connection, rows: list[dict], now: datetime) -> None:
    """Write merged paper rows (new ones with ``id``, changed ones with ``b_id``) in one
    statement: new ids are inserted, known ones take the merged content. The per-row full-text
    trigger stands aside (migration 0014_pg_bulk_search): :class:`FullText` writes those
    rows."""
    if not rows:
        return
    cur = _cursor(conn)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE papers INCLUDING DEFAULTS) "
                "ON COMMIT DELETE ROWS")
    _copy(cur, _STAGE, COLUMNS, _staged(rows, now))
    names = ", ".join(COLUMNS)
    cur.execute("SELECT set_config('paperboy.search_bulk', 'on', true)")
    cur.execute(f"INSERT INTO papers ({names}) SELECT {names} FROM {_STAGE} "
                "ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f"{name} = EXCLUDED.{name}" for name in _MERGED))
    cur.execute("SELECT set_config('paperboy.search_bulk', 'off', true)")


def drop_facets(conn: Connection, paper_ids: Sequence[str]) -> None:
    """Remove the author and category rows of changed papers (they are written anew)."""
    if not paper_ids:
        return
    cur = _cursor(conn)
    ids = list(paper_ids)
    cur.execute("DELETE FROM paper_authors WHERE paper_id = ANY(%s)", (ids,))
    cur.execute("DELETE FROM paper_categories WHERE paper_id = ANY(%s)", (ids,))


def copy_rows(conn: Connection, table: Table, names: Sequence[str], rows: list[tuple]) -> None:
    """COPY plain rows (str, int, None) into ``table``."""
    if rows:
        _copy(_cursor(conn), table.name, names, rows)


def touch_sources(conn: Connection, paper_ids: Sequence[str], source: str, now: datetime) -> None:
    """Record that ``source`` brought these papers (first seen now, or seen again now)."""
    if not paper_ids:
        return
    _cursor(conn).execute(
        "INSERT INTO paper_sources (paper_id, source, first_seen_at, last_seen_at) "
        "SELECT unnest(%s::text[]), %s, %s, %s "
        "ON CONFLICT (paper_id, source) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at",
        (list(paper_ids), source, now, now))
