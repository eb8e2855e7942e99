"""One text form for every datetime stored on SQLite.

SQLite compares datetimes as text. Bulk writes used to store sqlite3's ``isoformat(" ")``,
which drops the microseconds at a whole second (``2026-12-02 00:00:00``), while every bound
SQLAlchemy renders has them (``2026-12-02 00:00:00.000000``): the shorter text sorts first, so a
paper published exactly at midnight fell on the previous day. Writes now always store the long
form (``paperboy.storage.papers.sqlite_datetime_text``); this revision rewrites what was stored
before. PostgreSQL stores timestamps, not text: nothing to do there.

The keyword index's update trigger on ``papers`` (it bumps a revision when ``published``
changes) is set aside meanwhile and restored as it was: the moments do not change, only their
spelling, so the index has nothing to redo.

Revision ID: 0012_canonical_datetimes
Revises: 0011_code_stars
"""

from alembic import op
from sqlalchemy import inspect

revision = "0012_canonical_datetimes"
down_revision = "0011_code_stars"
branch_labels = None
depends_on = None

#: Length of ``YYYY-MM-DD HH:MM:SS`` (the short form; ``T`` as separator is taken too).
_SHORT = 19


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'papers' "
        "AND sql LIKE '%UPDATE OF%'").all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    inspector = inspect(conn)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if "DATETIME" not in str(column["type"]).upper():
                continue
            c = f'"{column["name"]}"'
            conn.exec_driver_sql(
                f'UPDATE "{table}" SET {c} = substr({c}, 1, 10) || \' \' || substr({c}, 12, 8) '
                f"|| '.000000' WHERE length({c}) = {_SHORT}")
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


def downgrade() -> None:
    """The long form is what SQLAlchemy itself writes and reads: nothing to undo."""
