"""Papers: idempotent batch upsert with provenance, and hydration by id.

Upserts work on batches so an import of millions of records does one SELECT and a few
executemany statements per batch. Each batch is one transaction, so an import killed at any point
leaves whole batches behind and a re-run continues where it stopped.
"""

from __future__ import annotations

import os
import unicodedata
from operator import attrgetter, itemgetter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterator, Mapping, Sequence

import orjson

from sqlalchemy import JSON, Boolean, Connection, DateTime, bindparam, delete, exists, func, select

from paperboy.ids import month_of
from paperboy.records import CONTENT_FIELDS, STORED_FIELDS, Listing, Paper, content_hash
from paperboy.storage import bulk_indexes, pg_copy
from paperboy.storage.keyword_revs import revs_in_bulk
from paperboy.storage.schema import (
    daily_listings,
    paper_authors,
    paper_categories,
    paper_sources,
    papers,
    search_docs,
    sync_state,
)

_LIST_FIELDS = ("authors", "categories", "ai_keywords")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def name_key(name: str) -> str:
    """Fold an author name for look-ups: accents off, case off, single spaces."""
    if name.isascii():  # NFKD leaves ASCII as it is and it has no combining marks
        return " ".join(name.casefold().split())[:255]
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())[:255]


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: ids inserted or changed by this upsert, for index maintenance
    changed_ids: list[str] = field(default_factory=list)

    def add(self, other: "UpsertCounts") -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.changed_ids.extend(other.changed_ids)


def _is_empty(value) -> bool:
    return value is None or value == "" or value == []


def merge_paper(existing: Mapping, incoming: Mapping) -> dict:
    """Combine a stored paper with a newly seen one.

    A newer (or same) version overrides every field it knows; fields it lacks keep their value,
    so a Hugging Face record never erases the journal-ref the arXiv API gave. An older version
    only fills gaps. The first-version date keeps the earliest value, the latest-version date
    the latest.
    """
    ev, iv = existing.get("version"), incoming.get("version")
    older = ev is not None and iv is not None and iv < ev
    merged = {name: existing.get(name) for name in CONTENT_FIELDS}
    for name in CONTENT_FIELDS:
        new = incoming.get(name)
        if _is_empty(new):
            continue
        if older and not _is_empty(merged[name]):
            continue
        merged[name] = new
    ep, ip = existing.get("published"), incoming.get("published")
    ea, ia = bool(existing.get("published_approx")), bool(incoming.get("published_approx"))
    merged["published_approx"] = ea if ep else ia
    if ep and ip:
        if ea != ia:  # a date a source gave beats the month read off the id
            merged["published"], merged["published_approx"] = (ip, False) if ea else (ep, False)
        else:
            merged["published"] = min(ep, ip)
    if existing.get("updated") and incoming.get("updated"):
        merged["updated"] = max(existing["updated"], incoming["updated"])
    if ev is not None and iv is not None:
        merged["version"] = max(ev, iv)
    return merged


_STORED_FIELDS = STORED_FIELDS


_stored_values = attrgetter(*_STORED_FIELDS)


def _has_nul(values: tuple) -> bool:
    """Whether any stored string holds NUL: one C-level scan of the values' JSON (orjson writes
    NUL as ``\\u0000``) instead of a Python loop over every field, a visible share of a bulk
    import. A false alarm (the text ``\\u0000`` itself) only sends the record the slow way."""
    try:
        return b"\\u0000" in orjson.dumps(values)
    except TypeError:  # a value orjson cannot write: look at each one
        return True


def _without_nul(values: dict) -> None:
    for name, value in values.items():
        if value.__class__ is str:
            if "\x00" in value:
                values[name] = value.replace("\x00", "")
        elif value.__class__ is list and any("\x00" in v for v in value if v.__class__ is str):
            values[name] = [v.replace("\x00", "") if v.__class__ is str else v for v in value]


def _normalized(paper: Paper) -> dict:
    stored = _stored_values(paper)
    values = dict(zip(_STORED_FIELDS, stored))
    values["published"] = _naive_utc(values["published"])
    values["published_approx"] = False
    if values["published"] is None:  # undated: the month in an arXiv id, marked approximate
        month = month_of(values["id"])
        if month is not None:
            values["published"] = datetime(month.year, month.month, 1)
            values["published_approx"] = True
    values["updated"] = _naive_utc(values["updated"])
    for name in _LIST_FIELDS:
        values[name] = list(values[name] or [])
    # NUL never reaches the store: PostgreSQL text cannot hold it (the whole batch would
    # fail), and no source means anything by it.
    if _has_nul(stored):
        _without_nul(values)
    return values


def _dedupe(batch: Sequence[Paper]) -> list[tuple[dict, list[Listing]]]:
    """Merge repeated ids within one batch, keeping every listing."""
    by_id: dict[str, tuple[dict, list[Listing]]] = {}
    for paper in batch:
        values = _normalized(paper)
        listings = [paper.listing] if paper.listing else []
        if paper.id in by_id:
            prev, prev_listings = by_id[paper.id]
            merged = merge_paper(prev, values)
            merged["id"] = paper.id
            by_id[paper.id] = (merged, prev_listings + listings)
        else:
            by_id[paper.id] = (values, listings)
    return list(by_id.values())


def _insert_many(conn: Connection, table, rows: list[dict], conflict: Sequence[str] = (),
                 update: Sequence[str] = ()) -> None:
    """INSERT many rows that all have the same keys (with ``conflict``: upsert on those
    columns, setting ``update`` from the new row).

    On SQLite the values go through the columns' own bind processors once and straight to the
    driver's executemany, which skips SQLAlchemy's per-row parameter handling (what that saves:
    benchmarks/RESULTS.md, "Issue 17"); other dialects use the plain Core insert.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        if not conflict:
            conn.execute(table.insert(), rows)
            return
        stmt = _insert(conn, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict), set_={n: getattr(stmt.excluded, n) for n in update})
        conn.execute(stmt, rows)
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    procs = []
    for name in names:
        proc = table.c[name].type.bind_processor(conn.dialect)
        if isinstance(table.c[name].type, DateTime):
            # the one stored form every comparison's bound shares (see sqlite_datetime_text)
            proc = _same_value_memo(sqlite_datetime_text)
        procs.append(proc)
    sql = _insert_sql(conn, table, names)
    if conflict:
        sql += (f" ON CONFLICT ({', '.join(quote(n) for n in conflict)}) DO UPDATE SET "
                + ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in update))
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    converted = [(i, proc) for i, proc in enumerate(procs) if proc]
    if not converted:
        data = [get(row) for row in rows]
    else:
        data = []
        for row in rows:
            values = list(get(row))
            for i, proc in converted:
                values[i] = proc(values[i])
            data.append(tuple(values))
    conn.exec_driver_sql(sql, data)


def _insert_plain(conn: Connection, table, names: Sequence[str], data: list[tuple]) -> None:
    """INSERT rows given as tuples of plain values (str, int, None: nothing to convert), on
    SQLite straight to the driver: no row dicts to build and take apart for the facet rows."""
    if not data:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(names, values)) for values in data])
        return
    conn.exec_driver_sql(_insert_sql(conn, table, names), data)


def _insert_sql(conn: Connection, table, names: Sequence[str]) -> str:
    """``INSERT INTO table (names) VALUES (?, ...)`` for the SQLite driver."""
    quote = conn.dialect.identifier_preparer.quote
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})")


def sqlite_datetime_text(value):
    """The one text form of a datetime on SQLite: SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``.

    SQLite compares datetimes as text, and every bound SQLAlchemy renders has the microseconds,
    so a stored value must have them too: sqlite3's own adapter (``isoformat(" ")``) drops them
    at a whole second, and ``2026-12-02 00:00:00`` sorts before the bound
    ``2026-12-02 00:00:00.000000`` (a midnight paper fell on the previous day)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    if isinstance(value, date):
        return f"{value.isoformat()} 00:00:00.000000"
    return value


def _same_value_memo(proc):
    """``proc`` remembering its last input: a batch stamps every row with the same ``now``
    object (created, modified, first and last seen), formatted once instead of per row."""
    last_in, last_out = object(), None

    def memo(value):
        nonlocal last_in, last_out
        if value is not last_in:
            last_in, last_out = value, proc(value)
        return last_out

    return memo


def _insert(conn: Connection, table):
    """A dialect-aware INSERT that supports ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def paper_from_row(row: Mapping) -> Paper:
    """A Paper from a row (mapping) of the papers table."""
    return Paper(**{name: row[name] for name in _STORED_FIELDS})


#: The stored fields as columns of ``papers`` aliased ``p``, for :func:`sqlite_papers`.
SQLITE_PAPER_COLUMNS = ", ".join(f"p.{name}" for name in _STORED_FIELDS)


def _sqlite_column_reader(name: str):
    column_type = papers.c[name].type
    if isinstance(column_type, JSON):
        return orjson.loads
    if isinstance(column_type, Boolean):
        return bool
    if isinstance(column_type, DateTime):
        # both stored forms: SQLAlchemy's "...:SS.ffffff" and sqlite3's "...:SS"
        return lambda value: None if value is None else datetime.fromisoformat(value)
    return None


_SQLITE_READERS = [(i, reader) for i, reader in
                   ((i, _sqlite_column_reader(n)) for i, n in enumerate(_STORED_FIELDS)) if reader]


def sqlite_papers(conn: Connection, sql: str, params: Sequence) -> Iterator[tuple[object, Paper]]:
    """(key, Paper) for rows of ``sql``, which selects a key then :data:`SQLITE_PAPER_COLUMNS`.

    Hydration at driver level on SQLite, cheaper than SQLAlchemy's result processing on every
    query (benchmarks/RESULTS.md, "Issue 17")."""
    make = Paper
    names = _STORED_FIELDS
    for row in conn.exec_driver_sql(sql, tuple(params)).cursor:
        values = list(row)
        for i, reader in _SQLITE_READERS:
            values[i + 1] = reader(values[i + 1])
        yield values[0], make(**dict(zip(names, values[1:])))


#: a listed paper without any category row
_NO_CATEGORY = ~exists().where(paper_categories.c.paper_id == daily_listings.c.paper_id)


class PaperRepository:
    """All reads and writes of papers and their provenance."""

    def __init__(self, engine, fulltext_connections: int = 2):
        self.engine = engine
        #: PostgreSQL: connections that compute a batch's full-text vectors (pg_copy.FullText)
        self.fulltext_connections = fulltext_connections

    # -- writes ---------------------------------------------------------------------------

    def upsert(
        self,
        batch: Sequence[Paper],
        source: str,
        state: Mapping[str, str] | None = None,
    ) -> UpsertCounts:
        """Store one batch atomically; ``state`` (e.g. a harvest cursor) commits with it."""
        counts = UpsertCounts()
        items = _dedupe(batch)
        if not items and not state:
            return counts
        now = utcnow()
        with self.engine.begin() as conn:
            ids = [values["id"] for values, _ in items]
            existing = {}
            if ids:
                rows = conn.execute(select(papers).where(papers.c.id.in_(ids))).mappings()
                existing = {row["id"]: row for row in rows}
            inserts, updates, changed_ids = [], [], []
            for values, _ in items:
                old = existing.get(values["id"])
                if old is None:
                    row = dict(values)
                    row["content_hash"] = content_hash(row)
                    row["hidden"] = False
                    row["created_at"] = row["modified_at"] = now
                    inserts.append(row)
                    counts.new += 1
                    counts.changed_ids.append(values["id"])
                    continue
                merged = merge_paper(old, values)
                digest = content_hash(merged)
                if digest == old["content_hash"]:
                    counts.unchanged += 1
                    continue
                merged["content_hash"] = digest
                merged["modified_at"] = now
                merged["b_id"] = values["id"]
                updates.append(merged)
                changed_ids.append(values["id"])
                counts.changed_ids.append(values["id"])
                counts.updated += 1
            if conn.dialect.name == "postgresql":
                retext = [*inserts, *(row for row in updates
                                      if (row["title"], row["abstract"])
                                      != (existing[row["b_id"]]["title"],
                                          existing[row["b_id"]]["abstract"]))]
                fulltext = pg_copy.FullText(self.engine, retext, self.fulltext_connections)
                try:
                    pg_copy.drop_facets(conn, changed_ids)
                    pg_copy.merge_papers(conn, [*inserts, *updates], now)
                    self._write_facets(conn, [*inserts, *updates])
                    pg_copy.touch_sources(conn, ids, source, now)
                    self._write_listings(conn, items, source, now)
                    if state:
                        self._set_state(conn, state, now)
                    fulltext.write(conn)
                except BaseException:
                    fulltext.cancel()
                    raise
                return counts
            with revs_in_bulk(conn, [row["id"] for row in inserts]):
                _insert_many(conn, papers, inserts)
            if updates:
                stmt = (
                    papers.update()
                    .where(papers.c.id == bindparam("b_id"))
                    .values({name: bindparam(name) for name in (*CONTENT_FIELDS, "published_approx",
                                                                "content_hash", "modified_at")})
                )
                conn.execute(stmt, updates)
                conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_(changed_ids)))
                conn.execute(
                    delete(paper_categories).where(paper_categories.c.paper_id.in_(changed_ids))
                )
            self._write_facets(conn, [*inserts, *updates])
            self._write_provenance(conn, items, source, now)
            if state:
                self._set_state(conn, state, now)
        return counts

    def _write_facets(self, conn: Connection, rows: list[dict]) -> None:
        author_rows, category_rows = [], []
        add_author, add_category = author_rows.append, category_rows.append
        for row in rows:
            pid = row.get("id") or row.get("b_id")
            for pos, name in enumerate(row["authors"]):
                add_author((pid, pos, name, name_key(name)))
            for cat in dict.fromkeys(row["categories"]):
                add_category((pid, cat[:32]))
        write = pg_copy.copy_rows if conn.dialect.name == "postgresql" else _insert_plain
        write(conn, paper_authors, ("paper_id", "position", "name", "name_key"), author_rows)
        write(conn, paper_categories, ("paper_id", "category"), category_rows)

    def _write_provenance(self, conn: Connection, items, source: str, now: datetime) -> None:
        if not items:
            return
        src_rows = [
            {"paper_id": values["id"], "source": source, "first_seen_at": now, "last_seen_at": now}
            for values, _ in items
        ]
        _insert_many(conn, paper_sources, src_rows, conflict=("paper_id", "source"),
                     update=("last_seen_at",))
        self._write_listings(conn, items, source, now)

    def _write_listings(self, conn: Connection, items, source: str, now: datetime) -> None:
        listing_rows = []
        for values, listings in items:
            for listing in listings:
                if listing.listed_on is None:
                    continue
                listing_rows.append(
                    {
                        "paper_id": values["id"],
                        "source": listing.source or source,
                        "listed_on": listing.listed_on,
                        "upvotes": listing.upvotes,
                        "comments": listing.comments,
                        "submitter": listing.submitter,
                        "organization": listing.organization,
                        "announce_type": listing.announce_type,
                        "listed_at": _naive_utc(listing.listed_at),
                        "submitter_fullname": listing.submitter_fullname,
                        "first_seen_at": now,
                        "last_seen_at": now,
                    }
                )
        if listing_rows:
            # Several listings of one paper on one day in a batch: the last one wins.
            unique = {(r["paper_id"], r["source"], r["listed_on"]): r for r in listing_rows}
            _insert_many(conn, daily_listings, list(unique.values()),
                         conflict=("paper_id", "source", "listed_on"),
                         update=("upvotes", "comments", "submitter", "organization",
                                 "announce_type", "listed_at", "submitter_fullname", "last_seen_at"))

    # -- bulk loads (see paperboy.storage.bulk_indexes) -----------------------------------

    def set_indexes_aside(self) -> bool:
        """For a large import: drop the secondary indexes until :meth:`restore_indexes`, noting
        this process as their owner; False where nothing is set aside (PostgreSQL)."""
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.begin() as conn:
            bulk_indexes.drop(conn)
            self._set_state(conn, {bulk_indexes.OWNER_KEY: str(os.getpid())}, utcnow())
        return True

    def restore_indexes(self, owner: bool = False) -> list[str]:
        """Create the set-aside indexes that are missing; returns their names. ``owner``: called
        by the import that set them aside; otherwise (opening the store) they are left to an
        import that is still running, which rebuilds them when it ends."""
        missing = bulk_indexes.missing(self.engine)  # one read on every open: nothing else
        if not missing:
            return []
        marker = self.get_state(bulk_indexes.OWNER_KEY)
        if not owner and bulk_indexes.import_running(marker):
            return []
        with self.engine.begin() as conn:
            bulk_indexes.create(conn, missing)
            conn.execute(delete(sync_state).where(sync_state.c.key == bulk_indexes.OWNER_KEY))
        return missing

    # -- sync state (harvest cursors) -----------------------------------------------------

    def _set_state(self, conn: Connection, state: Mapping[str, str], now: datetime) -> None:
        stmt = _insert(conn, sync_state)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt, [{"key": k, "value": v, "updated_at": now} for k, v in state.items()])

    def set_state(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            self._set_state(conn, {key: value}, utcnow())

    def get_state(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(sync_state.c.value).where(sync_state.c.key == key)
            ).scalar_one_or_none()

    def delete_state(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sync_state).where(sync_state.c.key == key))

    # -- reads ----------------------------------------------------------------------------

    def get(self, paper_id: str) -> Paper | None:
        found = self.get_many([paper_id])
        return found[0] if found else None

    def get_many(self, ids: Sequence[str]) -> list[Paper]:
        """Papers for ``ids`` in the given order; unknown ids are skipped."""
        if not ids:
            return []
        with self.engine.connect() as conn:
            by_id = {}
            for start in range(0, len(ids), 900):
                chunk = list(ids[start : start + 900])
                if conn.dialect.name == "sqlite":
                    by_id.update(sqlite_papers(
                        conn, f"SELECT p.id, {SQLITE_PAPER_COLUMNS} FROM papers p "
                        f"WHERE p.id IN ({', '.join('?' * len(chunk))})", chunk))
                    continue
                for row in conn.execute(select(papers).where(papers.c.id.in_(chunk))).mappings():
                    by_id[row["id"]] = paper_from_row(row)
        return [by_id[i] for i in ids if i in by_id]

    def listings(self, paper_id: str) -> list[dict]:
        """Every daily listing of a paper, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(daily_listings)
                .where(daily_listings.c.paper_id == paper_id)
                .order_by(daily_listings.c.listed_on.desc())
            ).mappings()
            return [dict(r) for r in rows]

    def sources(self, paper_id: str) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(paper_sources).where(paper_sources.c.paper_id == paper_id)
            ).mappings()
            return [dict(r) for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(papers)).scalar_one()

    def remove_source_only(self, source: str, chunk: int = 500) -> tuple[list[str], list[int]]:
        """Delete the papers that came from ``source`` alone (a paper another source also
        brought stays), with everything that hangs off them (listings, facets, vectors, keyword
        rows: foreign keys and triggers); returns (their ids, their search doc ids), so the
        caller can drop them from the keyword index file too."""
        ps, other = paper_sources, paper_sources.alias("other")
        only = select(ps.c.paper_id).where(
            ps.c.source == source,
            ~exists().where(other.c.paper_id == ps.c.paper_id, other.c.source != source))
        doc_ids: list[int] = []
        with self.engine.begin() as conn:
            ids = sorted(conn.execute(only).scalars())
            for start in range(0, len(ids), chunk):
                part = ids[start:start + chunk]
                doc_ids += conn.execute(select(search_docs.c.doc_id).where(
                    search_docs.c.paper_id.in_(part))).scalars()
                conn.execute(delete(papers).where(papers.c.id.in_(part)))
        return ids, sorted(doc_ids)

    def uncategorized_listed(self, limit: int = 1000) -> list[str]:
        """arXiv papers on a daily listing that have no category yet (Hugging Face's daily
        papers come without), the most recently listed first: what an arXiv ``id_list`` fetch
        fills in. Papers under another prefix (``s2:``, ``doi:``) are not arXiv's to fill."""
        q = (
            select(daily_listings.c.paper_id)
            .where(~daily_listings.c.paper_id.contains(":"), _NO_CATEGORY)
            .group_by(daily_listings.c.paper_id)
            .order_by(func.max(daily_listings.c.listed_on).desc(), daily_listings.c.paper_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(q).scalars())

    def count_uncategorized_listed(self) -> int:
        """Visible papers on a daily listing that have no category yet: what a category page,
        filter or digest preference cannot show until arXiv's categories arrive (pages say
        how many, rather than lose them silently)."""
        q = (
            select(func.count(func.distinct(daily_listings.c.paper_id)))
            .select_from(daily_listings.join(papers, papers.c.id == daily_listings.c.paper_id))
            .where(_NO_CATEGORY, papers.c.hidden.is_(False))
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar_one()

    def stats(self) -> dict:
        """Counts a user wants after an import: papers, by source, by category, listing days."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            by_source = dict(
                conn.execute(
                    select(paper_sources.c.source, func.count()).group_by(paper_sources.c.source)
                ).all()
            )
            top_categories = dict(
                conn.execute(
                    select(paper_categories.c.category, func.count().label("n"))
                    .group_by(paper_categories.c.category)
                    .order_by(func.count().desc())
                    .limit(15)
                ).all()
            )
            days = conn.execute(
                select(
                    func.count(func.distinct(daily_listings.c.listed_on)),
                    func.min(daily_listings.c.listed_on),
                    func.max(daily_listings.c.listed_on),
                )
            ).one()
            span = conn.execute(select(func.min(papers.c.published), func.max(papers.c.published))).one()
        as_iso = lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v  # noqa: E731
        return {
            "papers": total,
            "by_source": by_source,
            "top_categories": top_categories,
            "listing_days": days[0],
            "first_listing_day": as_iso(days[1]),
            "last_listing_day": as_iso(days[2]),
            "first_published": as_iso(span[0]),
            "last_published": as_iso(span[1]),
        }
