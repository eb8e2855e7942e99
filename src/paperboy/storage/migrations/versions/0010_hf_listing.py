"""Daily listings keep the source's listing time and the submitter's full name.

Hugging Face's ``/api/daily_papers`` says when a paper was put on the list
(``publishedAt``, to the millisecond) and who submitted it (``submittedBy.name`` and
``.fullname``). Paperboy kept only the day and the user name, so its compatible API answered
00:00 and the user name as the full name, and could not order a day's ties as Hugging Face does
(later listings first).

Revision ID: 0010_hf_listing
Revises: 0009_published_approx
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_hf_listing"
down_revision = "0009_published_approx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("daily_listings", sa.Column("listed_at", sa.DateTime(), nullable=True))
    op.add_column("daily_listings",
                  sa.Column("submitter_fullname", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daily_listings") as batch:
        batch.drop_column("submitter_fullname")
        batch.drop_column("listed_at")
