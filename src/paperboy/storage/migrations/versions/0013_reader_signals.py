"""For you: readers' signals (more/less like this), imported libraries, follows, keyword rules,
fitted ranking models, the shared tf-idf vocabulary and private feed tokens.

Revision ID: 0013_reader_signals
Revises: 0012_canonical_datetimes
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_reader_signals"
down_revision = "0012_canonical_datetimes"
branch_labels = None
depends_on = None


def _user():
    return sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                     nullable=False)


def _paper():
    return sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "reader_signals", _user(), _paper(),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id"),
    )
    op.create_table(
        "reader_library", _user(), _paper(),
        sa.Column("entry", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "paper_id"),
    )
    op.create_table(
        "reader_follows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), _user(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("value_key", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value_key", name="uq_reader_follows"),
    )
    op.create_table(
        "reader_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), _user(),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("query", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "action", "query", name="uq_reader_rules"),
    )
    op.create_table(
        "reader_models",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("model", sa.LargeBinary, nullable=False),
        sa.Column("fitted_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "reco_vocabularies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("n_docs", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "reader_feed_tokens",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for name in ("reader_feed_tokens", "reco_vocabularies", "reader_models", "reader_rules",
                 "reader_follows", "reader_library", "reader_signals"):
        op.drop_table(name)
