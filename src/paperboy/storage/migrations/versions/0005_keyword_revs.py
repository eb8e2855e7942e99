"""Search on SQLite: the keyword index moves from FTS5 to tantivy; papers carry a change number.

FTS5 scored every document matching any query word (~100 ms per query at 100k papers, ~1 s at
1M) and tokenized every paper inside the ingest transaction (half the import CPU). The keyword
index is now a tantivy index next to the database (paperboy.search.keywords), fed from here:
every insert, and every change of a paper's title, abstract, first-version date or categories,
gives its ``search_docs`` row a new ``rev`` from a counter that only grows (``search_rev``), so
revs follow commit order and the index catches up with "rev > the highest rev I hold".
PostgreSQL keeps its tsvector (migration 0002_search); nothing changes there.

Revision ID: 0005_keyword_revs
Revises: 0002_search
"""

from alembic import op

revision = "0005_keyword_revs"
down_revision = "0002_search"
branch_labels = None
depends_on = None

_CHANGED = ("old.title IS NOT new.title OR old.abstract IS NOT new.abstract "
            "OR old.published IS NOT new.published OR old.categories IS NOT new.categories")

_UPGRADE = [
    "DROP TRIGGER IF EXISTS papers_search_ai",
    "DROP TRIGGER IF EXISTS papers_search_au",
    "DROP TRIGGER IF EXISTS papers_search_bd",
    "DROP TABLE IF EXISTS papers_fts",
    "DROP VIEW IF EXISTS search_docs_content",
    "ALTER TABLE search_docs ADD COLUMN rev INTEGER NOT NULL DEFAULT 0",
    "UPDATE search_docs SET rev = doc_id",
    "CREATE INDEX ix_search_docs_rev ON search_docs(rev)",
    "CREATE TABLE search_rev (id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL)",
    "INSERT INTO search_rev(id, rev) SELECT 1, coalesce(max(doc_id), 0) FROM search_docs",
    """CREATE TRIGGER papers_search_ai AFTER INSERT ON papers BEGIN
        UPDATE search_rev SET rev = rev + 1 WHERE id = 1;
        INSERT INTO search_docs(paper_id, rev) VALUES (new.id, (SELECT rev FROM search_rev WHERE id = 1));
    END""",
    f"""CREATE TRIGGER papers_search_au AFTER UPDATE OF title, abstract, published, categories
    ON papers WHEN {_CHANGED} BEGIN
        UPDATE search_rev SET rev = rev + 1 WHERE id = 1;
        UPDATE search_docs SET rev = (SELECT rev FROM search_rev WHERE id = 1) WHERE paper_id = new.id;
    END""",
    """CREATE TRIGGER papers_search_bd BEFORE DELETE ON papers BEGIN
        DELETE FROM search_docs WHERE paper_id = old.id;
    END""",
]

_FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS papers_search_ai",
    "DROP TRIGGER IF EXISTS papers_search_au",
    "DROP TRIGGER IF EXISTS papers_search_bd",
    "DROP TABLE IF EXISTS search_rev",
    "DROP INDEX IF EXISTS ix_search_docs_rev",
    "ALTER TABLE search_docs DROP COLUMN rev",
    """CREATE VIEW search_docs_content AS
        SELECT d.doc_id AS doc_id, p.title AS title, p.abstract AS abstract
        FROM search_docs d JOIN papers p ON p.id = d.paper_id""",
    f"""CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, content='search_docs_content', content_rowid='doc_id',
        tokenize='{_FTS_TOKENIZE}')""",
    """CREATE TRIGGER papers_search_ai AFTER INSERT ON papers BEGIN
        INSERT INTO search_docs(paper_id) VALUES (new.id);
        INSERT INTO papers_fts(rowid, title, abstract)
            VALUES ((SELECT doc_id FROM search_docs WHERE paper_id = new.id), new.title, new.abstract);
    END""",
    """CREATE TRIGGER papers_search_au AFTER UPDATE OF title, abstract ON papers
    WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract)
            VALUES ('delete', (SELECT doc_id FROM search_docs WHERE paper_id = old.id),
                    old.title, old.abstract);
        INSERT INTO papers_fts(rowid, title, abstract)
            VALUES ((SELECT doc_id FROM search_docs WHERE paper_id = new.id), new.title, new.abstract);
    END""",
    """CREATE TRIGGER papers_search_bd BEFORE DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract)
            VALUES ('delete', (SELECT doc_id FROM search_docs WHERE paper_id = old.id),
                    old.title, old.abstract);
        DELETE FROM search_docs WHERE paper_id = old.id;
    END""",
    "INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in _UPGRADE:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for sql in _DOWNGRADE:
        op.execute(sql)
