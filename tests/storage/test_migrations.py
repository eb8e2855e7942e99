"""The migration history: one head, and stores made before the merge upgrade onto it."""

from __future__ import annotations

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from paperboy.storage import database


def test_history_has_one_head():
    script = ScriptDirectory.from_config(database._alembic_config(None))
    assert len(script.get_heads()) == 1


def test_store_at_the_three_old_heads_upgrades_to_the_single_head(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        command.upgrade(database._alembic_config(conn), "0003_community")
        command.upgrade(database._alembic_config(conn), "0004_mail")
        command.upgrade(database._alembic_config(conn), "0007_bulk_revs")
        assert len(MigrationContext.configure(conn).get_current_heads()) == 3
    database.upgrade(engine)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    script = ScriptDirectory.from_config(database._alembic_config(None))
    assert list(current) == script.get_heads()
    assert not database.pending_migrations(engine)


def test_quick_head_check_agrees_with_alembic(tmp_path):
    """Opening a store at head skips alembic (a CLI command's start-up): the head read off the
    migration files is alembic's own, and a store behind it is still upgraded."""
    from alembic.script import ScriptDirectory

    from paperboy.storage import database

    with database.make_engine(f"sqlite:///{tmp_path / 'x.db'}").connect() as conn:
        heads = ScriptDirectory.from_config(database._alembic_config(conn)).get_heads()
    assert [database._single_head()] == heads
    engine = database.make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    assert not database._at_single_head(engine)  # no version table yet
    database.upgrade(engine)
    assert database._at_single_head(engine) and not database.pending_migrations(engine)
