"""Undated papers get the month their arXiv id carries, marked approximate.

A source without dates (a CSV of ids and titles) left ``published`` empty: such papers sorted
arbitrarily, fell out of ``since:`` and showed 1970 in feeds. ``papers.published_approx`` marks a
``published`` that is only the month read off the id (``2505.11213``: 2025-05-01); a date from
any source replaces it. The upgrade fills the papers already stored.

Revision ID: 0009_published_approx
Revises: 0008_one_history
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from paperboy.ids import month_of

revision = "0009_published_approx"
down_revision = "0008_one_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("papers", sa.Column("published_approx", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM papers WHERE published IS NULL")).scalars().all()
    rows = [{"pid": pid, "month": datetime(month.year, month.month, 1)} for pid in ids
            if (month := month_of(pid)) is not None]
    if rows:
        update = sa.text("UPDATE papers SET published = :month, published_approx = :yes "
                         "WHERE id = :pid").bindparams(
            sa.bindparam("month", type_=sa.DateTime()), sa.bindparam("yes", True, sa.Boolean()))
        conn.execute(update, rows)


def downgrade() -> None:
    op.execute(sa.text("UPDATE papers SET published = NULL WHERE published_approx = :yes")
               .bindparams(sa.bindparam("yes", True, sa.Boolean())))
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("published_approx")
