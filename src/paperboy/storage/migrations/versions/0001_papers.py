"""Papers, their authors and categories, provenance, daily listings, sync cursors.

Revision ID: 0001_papers
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_papers"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "papers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("primary_category", sa.String(32)),
        sa.Column("published", sa.DateTime),
        sa.Column("updated", sa.DateTime),
        sa.Column("comments", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.String(255)),
        sa.Column("license", sa.String(255)),
        sa.Column("abs_url", sa.String(512)),
        sa.Column("pdf_url", sa.String(512)),
        sa.Column("code_url", sa.String(512)),
        sa.Column("project_url", sa.String(512)),
        sa.Column("thumbnail_url", sa.String(512)),
        sa.Column("organization", sa.String(255)),
        sa.Column("ai_keywords", sa.JSON, nullable=False),
        sa.Column("ai_summary", sa.Text),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("modified_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_papers_published", "papers", ["published"])
    op.create_index("ix_papers_modified_at", "papers", ["modified_at"])
    op.create_index("ix_papers_organization", "papers", ["organization"])
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.String(255), nullable=False),
    )
    op.create_index("ix_paper_authors_name_key", "paper_authors", ["name_key"])
    op.create_table(
        "paper_categories",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
    )
    op.create_index("ix_paper_categories_category", "paper_categories", ["category"])
    op.create_table(
        "paper_sources",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "daily_listings",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("listed_on", sa.Date, primary_key=True),
        sa.Column("upvotes", sa.Integer),
        sa.Column("comments", sa.Integer),
        sa.Column("submitter", sa.String(255)),
        sa.Column("organization", sa.String(255)),
        sa.Column("announce_type", sa.String(32)),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_daily_listings_listed_on", "daily_listings", ["listed_on"])
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for name in ("sync_state", "daily_listings", "paper_sources", "paper_categories",
                 "paper_authors", "papers"):
        op.drop_table(name)
