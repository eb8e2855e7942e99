"""Join the feature branches (search, community, mail) into one linear history.

Earlier stores sit at three heads (0003_community, 0004_mail, 0007_bulk_revs); this empty
merge revision moves each of them to a single head, so every later migration has exactly one
parent and ``alembic upgrade head`` is the whole story.

Revision ID: 0008_one_history
Revises: 0003_community, 0004_mail, 0007_bulk_revs
"""

revision = "0008_one_history"
down_revision = ("0003_community", "0004_mail", "0007_bulk_revs")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the merge point itself is the upgrade."""


def downgrade() -> None:
    """Nothing to undo."""
