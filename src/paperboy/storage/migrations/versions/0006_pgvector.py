"""Search on PostgreSQL: vectors in pgvector tables with an HNSW index, shared by all processes.

Creates the ``vector`` extension (when the server has it and the role may create it) and the
``vector_tables`` registry: model -> its table ``doc_vectors_<hash>`` (doc_id, vec vector(DIM))
and dimension. The tables themselves are made at run time, when a model's first vectors arrive,
since only then is the dimension known (paperboy.storage.pgvector). Without the extension the
migration still succeeds and vectors keep being served in-process. SQLite: nothing changes.

Revision ID: 0006_pgvector
Revises: 0005_keyword_revs
"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0006_pgvector"
down_revision = "0005_keyword_revs"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except DBAPIError as exc:
        log.warning("pgvector is not available (%s); vectors are served in-process",
                    str(exc.orig).strip().splitlines()[0])
    op.execute("""CREATE TABLE vector_tables (
        model VARCHAR(255) PRIMARY KEY,
        table_name VARCHAR(63) NOT NULL UNIQUE,
        dim INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for (name,) in bind.exec_driver_sql("SELECT table_name FROM vector_tables").all():
        op.execute(f'DROP TABLE IF EXISTS "{name}"')
    op.execute("DROP TABLE vector_tables")
