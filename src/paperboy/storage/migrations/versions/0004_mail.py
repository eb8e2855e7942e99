"""Mail: subscribers (double opt-in), saved searches with high-water marks, digest deliveries.

Revision ID: 0004_mail
Revises: 0001_papers
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_mail"
down_revision = "0001_papers"
branch_labels = ("mail",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_subscribers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("max_papers", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("token_nonce", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("confirmed_at", sa.DateTime),
        sa.Column("unsubscribed_at", sa.DateTime),
        sa.Column("suspended_at", sa.DateTime),
        sa.Column("notice_sent_at", sa.DateTime),
        sa.Column("bounce_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_mail_subscribers_status_period", "mail_subscribers", ["status", "period"])
    op.create_table(
        "mail_saved_searches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", sa.Integer,
                  sa.ForeignKey("mail_subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("query_key", sa.String(500), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("high_water", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("stopped_at", sa.DateTime),
        sa.UniqueConstraint("subscriber_id", "query_key", name="uq_mail_saved_searches_query"),
    )
    op.create_index("ix_mail_saved_searches_query_key", "mail_saved_searches", ["query_key"])
    op.create_table(
        "mail_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", sa.Integer,
                  sa.ForeignKey("mail_subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("period_key", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("papers", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("subscriber_id", "period_key", name="uq_mail_deliveries_period"),
    )
    op.create_index("ix_mail_deliveries_period_status", "mail_deliveries",
                    ["period_key", "status"])


def downgrade() -> None:
    for name in ("mail_deliveries", "mail_saved_searches", "mail_subscribers"):
        op.drop_table(name)
