"""Table definitions shared by SQLite and PostgreSQL (SQLAlchemy Core).

Migrations under ``migrations/versions`` create these tables; this module is the single place that
names columns, so the store and the migrations agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

papers = Table(
    "papers",
    metadata,
    Column("id", String(64), primary_key=True, doc="arXiv id without version, or prefix:id"),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False, default=""),
    Column("authors", JSON, nullable=False, default=list, doc="ordered author names"),
    Column("categories", JSON, nullable=False, default=list),
    Column("primary_category", String(32)),
    Column("published", DateTime, doc="first version (v1) date, UTC"),
    Column("updated", DateTime, doc="latest version date, UTC"),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", String(255)),
    Column("license", String(255)),
    Column("abs_url", String(512)),
    Column("pdf_url", String(512)),
    Column("code_url", String(512)),
    Column("project_url", String(512)),
    Column("thumbnail_url", String(512)),
    Column("organization", String(255)),
    Column("ai_keywords", JSON, nullable=False, default=list),
    Column("ai_summary", Text),
    Column("content_hash", String(32), nullable=False),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False, doc="when this store first saw the paper"),
    Column("modified_at", DateTime, nullable=False, doc="last change in this store"),
    Index("ix_papers_published", "published"),
    Index("ix_papers_modified_at", "modified_at"),
    Index("ix_papers_organization", "organization"),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", String(255), nullable=False, doc="folded name for look-ups"),
    Index("ix_paper_authors_name_key", "name_key"),
)

paper_categories = Table(
    "paper_categories",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(32), primary_key=True),
    Index("ix_paper_categories_category", "category"),
)

paper_sources = Table(
    "paper_sources",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("first_seen_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
)

daily_listings = Table(
    "daily_listings",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("listed_on", Date, primary_key=True, doc="day the paper appeared in the feed"),
    Column("upvotes", Integer),
    Column("comments", Integer),
    Column("submitter", String(255)),
    Column("organization", String(255)),
    Column("announce_type", String(32)),
    Column("first_seen_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Index("ix_daily_listings_listed_on", "listed_on"),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(255), primary_key=True, doc="e.g. oai:cs:cursor"),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# --- search (migration 0002_search) ---------------------------------------------------------
# Stable integer ids for the lexical (FTS5 rowid / PostgreSQL tsvector row) and vector indexes.
# On SQLite the FTS5 table ``papers_fts`` and on PostgreSQL the ``search_docs.tsv`` column are
# created by the migration only (dialect-specific); paperboy.storage.search_index queries them.

search_docs = Table(
    "search_docs",
    metadata,
    Column("doc_id", Integer, primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False,
           unique=True),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("seq", Integer, primary_key=True, doc="grows on every write (incremental index loads)"),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("model", String(255), nullable=False),
    Column("text_hash", String(32), nullable=False, doc="digest of the embedded title + abstract"),
    Column("vector", LargeBinary, nullable=False, doc="float32 little-endian, L2-normalized"),
)
