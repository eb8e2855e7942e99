"""Code links: the GitHub stars Hugging Face reports beside a paper's repository.

Revision ID: 0011_code_stars
Revises: 0010_hf_listing
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_code_stars"
down_revision = "0010_hf_listing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("papers", sa.Column("code_stars", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("code_stars")
