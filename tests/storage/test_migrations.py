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
