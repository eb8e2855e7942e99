"""PostgreSQL: a queue of papers to embed, from which any number of ``paperboy embed`` workers
claim disjoint batches (``FOR UPDATE SKIP LOCKED``) with an expiry, so the batch of a worker
that died is taken again. A row leaves the queue in the transaction that stores its vector.
SQLite: nothing (one writer; ``paperboy embed`` runs alone there).

Revision ID: 0015_embed_claims
Revises: 0014_pg_bulk_search
"""

from alembic import op

revision = "0015_embed_claims"
down_revision = "0014_pg_bulk_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""CREATE TABLE embed_queue (
        model VARCHAR(128) NOT NULL,
        paper_id VARCHAR(64) NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        claimed_by VARCHAR(128),
        claimed_until TIMESTAMP,
        claims INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (model, paper_id)
    )""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS embed_queue")
