"""Shared fixtures: settings in a temporary data directory and stores on SQLite and PostgreSQL.

PostgreSQL comes from the `pgserver` package (a real PostgreSQL 16 with pgvector), started once
per test session; every test gets its own fresh database in it, dropped when the test ends.

The schema is migrated once per session: each test's database starts as a copy of a migrated
template (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so a test
pays for opening a store, not for running every migration. Migration tests build their own
databases from scratch.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from paperboy.settings import Settings, load_settings
from paperboy.storage import Store, open_store
from tests.builders import data_dir_from

_db_counter = itertools.count()


def pytest_collection_modifyitems(items):
    """Every test on a PostgreSQL database is marked ``postgres`` (``-m "not postgres"`` leaves
    them out), however it asks for the database."""
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server for the whole test session."""
    import pgserver

    # Not under pytest's temp root: every pytest start resets that root to mode 0700, which
    # locks the server's own user out when two test runs share a machine.
    root = Path(tempfile.mkdtemp(prefix="paperboy-pg-"))
    server = pgserver.get_server(root / "data", cleanup_mode="delete")
    server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _pg_url(server, dbname: str) -> str:
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/...
    base, query = uri.split("?", 1)
    base = base.rsplit("/", 1)[0]
    return f"postgresql+psycopg://{base.split('://', 1)[1]}/{dbname}?{query}"


@pytest.fixture(scope="session")
def pg_template(pg_server, tmp_path_factory) -> str:
    """A database migrated to head, copied for each test."""
    name = f"template_{os.getpid()}"
    pg_server.psql(f"CREATE DATABASE {name};")
    url = _pg_url(pg_server, name)
    open_store(load_settings({"data_dir": tmp_path_factory.mktemp("pg-template"),
                              "database_url": url}, environ={})).close()
    return name


@pytest.fixture
def pg_url(pg_server, pg_template) -> str:
    """URL of a brand-new PostgreSQL database at the current schema, with no papers."""
    name = f"t{os.getpid()}_{next(_db_counter)}"
    pg_server.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template};")
    url = _pg_url(pg_server, name)
    yield url
    # Dropped at once (FORCE ends a connection a test left open): a server holding a database
    # per test took minutes to stop at the end of the session.
    pg_server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated to head, copied into each test's data directory."""
    data_dir = tmp_path_factory.mktemp("sqlite-template")
    open_store(load_settings({"data_dir": data_dir}, environ={})).close()
    return data_dir / "paperboy.db"


@pytest.fixture
def settings(tmp_path, backend, request) -> Settings:
    """Settings with a temporary data directory, on the backend under test."""
    if backend == "postgresql":
        overrides = {"data_dir": tmp_path / "data",
                     "database_url": request.getfixturevalue("pg_url")}
    else:
        overrides = {"data_dir": data_dir_from(request.getfixturevalue("sqlite_template"),
                                                tmp_path)}
    return load_settings(overrides, environ={})


@pytest.fixture
def sqlite_settings(tmp_path, sqlite_template) -> Settings:
    return load_settings({"data_dir": data_dir_from(sqlite_template, tmp_path)}, environ={})


@pytest.fixture
def store(settings) -> Store:
    """An empty, migrated store on each backend (SQLite and PostgreSQL)."""
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_settings) -> Store:
    s = open_store(sqlite_settings)
    yield s
    s.close()


@pytest.fixture
def pg_store(tmp_path, pg_url) -> Store:
    """An empty, migrated PostgreSQL store, for tests of PostgreSQL-only mechanisms."""
    s = open_store(load_settings({"data_dir": tmp_path / "data", "database_url": pg_url},
                                 environ={}))
    yield s
    s.close()


# -- network edge: a local replay server and a polite client that never waits ------------------


@pytest.fixture
def server():
    """A local HTTP server replaying recorded responses in the real arXiv / HF formats."""
    from tests.replay import ReplayServer

    s = ReplayServer().start()
    yield s
    s.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps):
    """Real HTTP, fake sleep: the waits it would have made are recorded in ``sleeps``."""
    from paperboy.sources.http import PoliteClient

    c = PoliteClient(interval=3.0, retries=2, timeout=5.0, sleep=sleeps.append)
    yield c
    c.close()
