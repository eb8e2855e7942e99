"""PostgreSQL: the full-text trigger stands aside while a bulk write fills ``search_docs`` itself.

The per-row trigger of 0002_search (one plpgsql call and one ``INSERT ... ON CONFLICT`` per
paper) cost more than the COPY of the papers themselves. A writer that sets the transaction-local
``paperboy.search_bulk`` to ``on`` (``paperboy.storage.pg_copy``) writes the full-text rows of its
batch in one statement; every other write still goes through the trigger. SQLite: nothing.

Revision ID: 0014_pg_bulk_search
Revises: 0013_reader_signals
"""

from alembic import op

revision = "0014_pg_bulk_search"
down_revision = "0013_reader_signals"
branch_labels = None
depends_on = None


def _sync_function(bulk_check: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION paperboy_search_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        {bulk_check}
        IF TG_OP = 'UPDATE' AND NEW.title IS NOT DISTINCT FROM OLD.title
           AND NEW.abstract IS NOT DISTINCT FROM OLD.abstract THEN
            RETURN NEW;
        END IF;
        INSERT INTO search_docs(paper_id, tsv)
            VALUES (NEW.id, paperboy_search_tsv(NEW.title, NEW.abstract))
            ON CONFLICT (paper_id) DO UPDATE SET tsv = EXCLUDED.tsv;
        RETURN NEW;
    END $$"""


_BULK_CHECK = """IF current_setting('paperboy.search_bulk', true) = 'on' THEN
            RETURN NEW;
        END IF;"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_sync_function(_BULK_CHECK))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_sync_function(""))
