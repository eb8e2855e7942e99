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

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Iterable, Sequence

import orjson
from sqlalchemy import Connection, Engine, Table

from paperboy.records import CONTENT_FIELDS, STORED_FIELDS

_STAGE = "paperboy_stage_papers"
_STAGE_TSV = "paperboy_stage_tsv"
_TEXTS = "paperboy_fulltext_texts"
#: helper connections at most: with the importing one, well inside the engine's pool (5 + 10)
MAX_HELPERS = 8
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
    """The full-text rows of a batch: their vectors computed by other connections while the
    writing one stores the papers, then written by the writing one in its own transaction.

    ``to_tsvector`` is most of what a bulk import costs the server; on one connection it waits
    for everything else the batch writes. The helpers store nothing (they compute from texts
    handed to them), so a batch is still one transaction of the writing connection: a killed
    import leaves whole batches, full-text rows included. ``helpers`` connections each take a
    share of the texts; with none, the writing connection computes them from its staged rows.
    """

    def __init__(self, engine: Engine, rows: Sequence[dict], helpers: int):
        self._ids = [r.get("id") or r["b_id"] for r in rows]
        self._parts: list[Future] = []
        if not rows or helpers <= 0:
            return
        helpers = min(helpers, len(rows), MAX_HELPERS)
        size = -(-len(rows) // helpers)
        texts = [(i, r["title"], r["abstract"]) for i, r in zip(self._ids, rows)]
        pool = ThreadPoolExecutor(helpers, thread_name_prefix="paperboy-fulltext")
        self._parts = [pool.submit(_vectors, engine, texts[start:start + size])
                       for start in range(0, len(texts), size)]
        pool.shutdown(wait=False)  # each thread ends with its part

    def write(self, conn: Connection) -> None:
        """(Re)write the batch's ``search_docs`` rows in ``conn``'s transaction (after
        :func:`merge_papers`); a helper's error is raised here, and the transaction rolls back."""
        if not self._ids:
            return
        cur = _cursor(conn)
        if not self._parts:
            cur.execute("INSERT INTO search_docs (paper_id, tsv) "
                        f"SELECT id, paperboy_search_tsv(title, abstract) FROM {_STAGE} "
                        "WHERE id = ANY(%s) ORDER BY id "
                        "ON CONFLICT (paper_id) DO UPDATE SET tsv = EXCLUDED.tsv", (self._ids,))
            return
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TSV} "
                    "(paper_id text, tsv tsvector) ON COMMIT DELETE ROWS")
        with cur.copy(f"COPY {_STAGE_TSV} (paper_id, tsv) FROM STDIN (FORMAT binary)") as copy:
            copy.write(_BINARY_HEADER)
            for part in self._parts:
                copy.write(part.result())
            copy.write(_BINARY_TRAILER)
        cur.execute("INSERT INTO search_docs (paper_id, tsv) SELECT paper_id, tsv "
                    f"FROM {_STAGE_TSV} ORDER BY paper_id "
                    "ON CONFLICT (paper_id) DO UPDATE SET tsv = EXCLUDED.tsv")

    def cancel(self) -> None:
        """Wait for the helpers (the batch failed), without their results."""
        for part in self._parts:
            part.exception()


#: COPY's binary format: a signature, 32 bits of flags and a header extension's length, the
#: rows, and -1 as the number of fields at the end
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"


def _vectors(engine: Engine, texts: list[tuple[str, str, str]]) -> bytes:
    """The binary COPY rows (paper id, full-text vector) of ``(id, title, abstract)`` texts,
    computed on a connection of its own: the rows pass through as the server wrote them."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        cur = driver.cursor()
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TEXTS} "
                    "(id text, title text, abstract text) ON COMMIT DELETE ROWS")
        _copy(cur, _TEXTS, ("id", "title", "abstract"), texts)
        data = bytearray()
        with cur.copy(f"COPY (SELECT id, paperboy_search_tsv(title, abstract) FROM {_TEXTS}) "
                      "TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                data += block
        driver.commit()  # empties the texts' table
    start = 19 + int.from_bytes(data[15:19], "big")  # past the header and its extension
    return bytes(data[start:-len(_BINARY_TRAILER)])


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
