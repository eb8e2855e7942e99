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
    false,
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
    Column("published_approx", Boolean, nullable=False, default=False, server_default=false(),
           doc="published is only the month read off the arXiv id"),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", String(255)),
    Column("license", String(255)),
    Column("abs_url", String(512)),
    Column("pdf_url", String(512)),
    Column("code_url", String(512)),
    Column("code_stars", Integer, doc="GitHub stars of code_url, as last reported (0013)"),
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
    Column("listed_at", DateTime, doc="when the source put it on its list (HF publishedAt), UTC"),
    Column("submitter_fullname", String(255), doc="the submitter's display name at the source"),
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

# -- mail (migration 0004_mail) ---------------------------------------------------------------
# Subscribers (double opt-in; no foreign key to the community tables, ``user_id`` is optional),
# their saved searches with a high-water mark each, and one delivery row per subscriber and
# period: the unique (subscriber_id, period_key) row is claimed before a digest is sent, which is
# what makes a digest go out at most once per period (see paperboy.mail.digest).

from sqlalchemy import UniqueConstraint  # noqa: E402  (mail section is self-contained)

mail_subscribers = Table(
    "mail_subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, doc="as typed (domain lower-cased)"),
    Column("email_key", String(320), nullable=False, unique=True, doc="case-folded, unique"),
    Column("status", String(16), nullable=False,
           doc="pending | active | unsubscribed | suspended"),
    Column("period", String(8), nullable=False, doc="daily | weekly"),
    Column("categories", JSON, nullable=False, default=list, doc="empty: all categories"),
    Column("max_papers", Integer, nullable=False),
    Column("user_id", Integer, doc="the account, where the subscriber signed in (no FK)"),
    Column("token_nonce", String(32), nullable=False, doc="part of every signed link; rotate to revoke"),
    Column("created_at", DateTime, nullable=False),
    Column("confirmed_at", DateTime),
    Column("unsubscribed_at", DateTime),
    Column("suspended_at", DateTime),
    Column("notice_sent_at", DateTime, doc="last confirmation/notice mail (rate limit)"),
    Column("bounce_count", Integer, nullable=False, default=0, doc="permanent failures in a row"),
    Column("last_error", Text),
    Index("ix_mail_subscribers_status_period", "status", "period"),
)

mail_saved_searches = Table(
    "mail_saved_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, ForeignKey("mail_subscribers.id", ondelete="CASCADE"),
           nullable=False),
    Column("query", Text, nullable=False, doc="as typed"),
    Column("query_key", String(500), nullable=False, doc="normalized; equal keys share one search"),
    Column("active", Boolean, nullable=False, default=True),
    Column("high_water", DateTime, nullable=False,
           doc="papers first stored after this moment are new for this alert"),
    Column("created_at", DateTime, nullable=False),
    Column("stopped_at", DateTime),
    UniqueConstraint("subscriber_id", "query_key", name="uq_mail_saved_searches_query"),
    Index("ix_mail_saved_searches_query_key", "query_key"),
)

mail_deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, ForeignKey("mail_subscribers.id", ondelete="CASCADE"),
           nullable=False),
    Column("period_key", String(32), nullable=False, doc="daily:2026-11-24 or weekly:2026-W48"),
    Column("status", String(16), nullable=False,
           doc="sending | sent | deferred | bounced | skipped"),
    Column("job_id", String(64), nullable=False, doc="the job that claimed the row last"),
    Column("message_id", String(255)),
    Column("attempts", Integer, nullable=False, default=1),
    Column("papers", Integer, nullable=False, default=0),
    Column("claimed_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("error", Text),
    UniqueConstraint("subscriber_id", "period_key", name="uq_mail_deliveries_period"),
    Index("ix_mail_deliveries_period_status", "period_key", "status"),
)

# -- community: accounts, sessions, API tokens, upvotes, comments, collections, paper stats

from sqlalchemy import UniqueConstraint  # noqa: E402

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False, doc="as typed at sign-up"),
    Column("username_key", String(40), nullable=False, unique=True, doc="case-folded, unique"),
    Column("email", String(255), nullable=False),
    Column("email_key", String(255), nullable=False, unique=True, doc="lower-cased, unique"),
    Column("password_hash", String(255), nullable=False, doc="argon2id"),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True, doc="sha256 of the cookie token (never the token)"),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_user_sessions_user_id", "user_id"),
    Index("ix_user_sessions_expires_at", "expires_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True, doc="sha256 of the token"),
    Column("prefix", String(16), nullable=False, doc="first characters, to recognise it"),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    Index("ix_api_tokens_user_id", "user_id"),
)

upvotes = Table(
    "upvotes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True,
           doc="the primary key (user_id, paper_id) is the one-vote-per-user rule"),
    Column("created_at", DateTime, nullable=False),
    Index("ix_upvotes_paper_id", "paper_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("body", Text, nullable=False, doc="Markdown source; rendered and sanitized on output"),
    Column("created_at", DateTime, nullable=False),
    Column("edited_at", DateTime),
    Column("deleted_at", DateTime, doc="deleted by its author (kept as a placeholder)"),
    Column("hidden", Boolean, nullable=False, default=False, doc="hidden by an admin"),
    Index("ix_comments_paper_id", "paper_id", "created_at"),
    Index("ix_comments_user_id", "user_id"),
)

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("is_public", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_collections_user_name"),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column("collection_id", Integer, ForeignKey("collections.id", ondelete="CASCADE"),
           primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("note", Text, nullable=False, default=""),
    Column("added_at", DateTime, nullable=False),
    Index("ix_collection_items_paper_id", "paper_id"),
)

paper_stats = Table(
    "paper_stats",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("local_upvotes", Integer, nullable=False, default=0, doc="maintained on every vote"),
    Column("local_comments", Integer, nullable=False, default=0,
           doc="visible comments, maintained on comment/delete/hide"),
    Column("updated_at", DateTime, nullable=False),
)

# -- "For you" (migration 0013_reader_signals): what each reader tells us, and what we keep to
# rank for them. Rows belong to one account (user_id) and go with it (ON DELETE CASCADE).

reader_signals = Table(
    "reader_signals",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(8), nullable=False, doc="more | less"),
    Column("created_at", DateTime, nullable=False),
)

reader_library = Table(
    "reader_library",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("entry", String(255), nullable=False, doc="how the imported file named it"),
    Column("added_at", DateTime, nullable=False),
)

reader_follows = Table(
    "reader_follows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False, doc="author | organization | category"),
    Column("value", String(300), nullable=False, doc="as typed"),
    Column("value_key", String(300), nullable=False, doc="folded, unique per reader and kind"),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "kind", "value_key", name="uq_reader_follows"),
)

reader_rules = Table(
    "reader_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(8), nullable=False, doc="include | exclude"),
    Column("query", String(300), nullable=False, doc="search syntax: words, author:, cat:"),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "action", "query", name="uq_reader_rules"),
)

reader_models = Table(
    "reader_models",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("version", String(64), nullable=False,
           doc="digest of the signals and vocabulary the model was fitted on"),
    Column("model", LargeBinary, nullable=False),
    Column("fitted_at", DateTime, nullable=False),
)

reco_vocabularies = Table(
    "reco_vocabularies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("n_docs", Integer, nullable=False, doc="papers it was fitted on"),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

reader_feed_tokens = Table(
    "reader_feed_tokens",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True, doc="sha256 of the token"),
    Column("created_at", DateTime, nullable=False),
)
