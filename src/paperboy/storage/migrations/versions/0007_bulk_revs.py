"""Search on SQLite: a batch of new papers gets its keyword revs in one statement.

The per-row trigger of 0005_keyword_revs (bump the counter, insert the ``search_docs`` row) cost
about as much as inserting the paper itself on bulk imports (~70 us a paper). It now stands
aside while ``search_rev.bulk`` is 1: the papers repository sets it inside its own write
transaction, inserts the batch, gives the new papers consecutive revs with one
``executemany`` and clears it (paperboy.storage.keyword_revs), so nothing outside that
transaction ever sees it set. Every other insert still goes through the trigger.

Revision ID: 0007_bulk_revs
Revises: 0006_pgvector
"""

from alembic import op

revision = "0007_bulk_revs"
down_revision = "0006_pgvector"
branch_labels = None
depends_on = None

_INSERT_BODY = """BEGIN
        UPDATE search_rev SET rev = rev + 1 WHERE id = 1;
        INSERT INTO search_docs(paper_id, rev) VALUES (new.id, (SELECT rev FROM search_rev WHERE id = 1));
    END"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE search_rev ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0")
    op.execute("DROP TRIGGER IF EXISTS papers_search_ai")
    op.execute("CREATE TRIGGER papers_search_ai AFTER INSERT ON papers "
               "WHEN (SELECT bulk FROM search_rev WHERE id = 1) = 0 " + _INSERT_BODY)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS papers_search_ai")
    op.execute("CREATE TRIGGER papers_search_ai AFTER INSERT ON papers " + _INSERT_BODY)
    op.execute("ALTER TABLE search_rev DROP COLUMN bulk")
