"""Engine creation and migrations for SQLite (default) and PostgreSQL.

SQLite gets WAL mode, a busy timeout and foreign keys on every connection, so concurrent readers
never block the single writer and a briefly locked database waits instead of failing.
"""

from __future__ import annotations

import orjson
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


#: The escape character every LIKE pattern names (``ESCAPE '\\'``), on both databases: SQLite
#: has no default one and PostgreSQL's default backslash fails on a pattern ending in one.
LIKE_ESCAPE = "\\"


def like_escape(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (``%``, ``_`` and the escape itself)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as pgserver and most hosts print them)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


_WRITE_OPTION = "paperboy_write"


def _write_transaction(engine: Engine):
    """``engine.begin()`` for SQLite: the same context manager, marked as a write transaction."""

    @contextmanager
    def begin() -> Iterator[Connection]:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    return begin


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, cache_mb: int = 64) -> Engine:
    """``cache_mb``: SQLite's page cache per connection (a process that only streams through
    the papers once, like the keyword index's helper, needs little)."""
    url = _normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 60, "check_same_thread": False},
            # JSON columns (authors, categories, ...) through orjson: several times faster
            # than the json module on bulk imports and feed pages.
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no branch - tiny
            # Let SQLAlchemy drive transactions; sqlite3's implicit ones break BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute(f"PRAGMA cache_size={-1024 * cache_mb}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers (engine.begin()) take the write lock up front with BEGIN IMMEDIATE, so two
            # writers queue on the busy timeout instead of failing on a lock upgrade. Readers
            # (engine.connect()) use a plain deferred BEGIN: under WAL they never wait for, nor
            # hold up, a writer.
            immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        engine.begin = _write_transaction(engine)  # type: ignore[method-assign]
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migrations (safe on every start).

    The history is linear from 0008_one_history on (older feature branches merge there).
    """
    if _at_single_head(engine):
        return  # the usual start: nothing to do, and alembic is not even imported
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


def _single_head() -> str | None:
    """The one revision no other migration file mentions (files are named by their revision),
    or None when that is not clear-cut; alembic decides then."""
    texts = {p.stem: p.read_text(encoding="utf-8")
             for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py")}
    heads = [rev for rev in texts
             if not any(f'"{rev}"' in body or f"'{rev}'" in body
                        for other, body in texts.items() if other != rev)]
    return heads[0] if len(heads) == 1 else None


def _at_single_head(engine: Engine) -> bool:
    """True when the database is at the single head revision (one query)."""
    head = _single_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # a new database: no version table yet
        return False
    return current == [head]


def pending_migrations(engine: Engine) -> bool:
    """True when the database is behind the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
        heads = ScriptDirectory.from_config(_alembic_config(conn)).get_heads()
    return set(current) != set(heads)
