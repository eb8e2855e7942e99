"""Upvotes, comments, collections, submissions and the per-paper counters trending reads.

One vote per user per paper is the primary key of ``upvotes``; the per-paper counters in
``paper_stats`` change in the same transaction as the vote or comment, with an atomic
``UPDATE ... SET n = n + 1``, so concurrent voters neither lose nor double a vote and cards read
a count without counting rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, delete, func, select, text, true, update
from sqlalchemy.exc import IntegrityError

from paperboy.errors import NotFound, PaperboyError
from paperboy.records import Paper
from paperboy.storage.papers import _insert, paper_from_row, utcnow
from paperboy.storage.schema import (
    collection_items,
    collections,
    comments,
    daily_listings,
    paper_stats,
    papers,
    upvotes,
    users,
)
from paperboy.storage.writes import write

SUBMITTED_SOURCE = "submitted"


class CollectionExists(PaperboyError):
    def __init__(self, name: str):
        super().__init__(f"You already have a collection named {name!r}.")


@dataclass
class Counts:
    """What cards and the API show for one paper."""

    upvotes_imported: int = 0
    upvotes_local: int = 0
    comments_imported: int = 0
    comments_local: int = 0

    @property
    def upvotes(self) -> int:
        return self.upvotes_imported + self.upvotes_local

    @property
    def comments(self) -> int:
        return self.comments_imported + self.comments_local

    def as_dict(self) -> dict:
        return {"upvotes": self.upvotes, "upvotes_imported": self.upvotes_imported,
                "upvotes_local": self.upvotes_local, "comments": self.comments,
                "comments_imported": self.comments_imported, "comments_local": self.comments_local}


@dataclass
class Comment:
    id: int
    paper_id: str
    user_id: int
    username: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool


@dataclass
class Collection:
    id: int
    user_id: int
    owner: str
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    size: int = 0


@dataclass
class CollectionItem:
    paper: Paper
    note: str
    added_at: datetime


def _bump(conn: Connection, paper_id: str, **deltas: int) -> None:
    """Atomically add ``deltas`` to a paper's counters (creating its row at 0 first)."""
    now = utcnow()
    stmt = _insert(conn, paper_stats).values(
        paper_id=paper_id, local_upvotes=0, local_comments=0, updated_at=now)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["paper_id"]))
    conn.execute(update(paper_stats).where(paper_stats.c.paper_id == paper_id).values(
        updated_at=now, **{name: getattr(paper_stats.c, name) + delta for name, delta in deltas.items()}))


def _visible_paper(conn: Connection, paper_id: str) -> None:
    hidden = conn.execute(select(papers.c.hidden).where(papers.c.id == paper_id)).first()
    if hidden is None or hidden[0]:
        raise NotFound(f"no paper {paper_id}")


class CommunityRepository:
    def __init__(self, engine):
        self.engine = engine

    # -- upvotes --------------------------------------------------------------------------

    def set_upvote(self, user_id: int, paper_id: str, on: bool | None = None) -> bool:
        """Vote (on=True), unvote (False) or toggle (None); returns whether the user now votes."""

        def work(conn):
            _one_voter_at_a_time(conn, user_id, paper_id)
            _visible_paper(conn, paper_id)
            if on is not False:
                inserted = conn.execute(
                    _insert(conn, upvotes).values(user_id=user_id, paper_id=paper_id,
                                                  created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["user_id", "paper_id"])
                    .returning(upvotes.c.user_id)
                ).first()
                if inserted is not None:
                    _bump(conn, paper_id, local_upvotes=1)
                    return True
                if on is True:
                    return True
            removed = conn.execute(delete(upvotes).where(
                upvotes.c.user_id == user_id, upvotes.c.paper_id == paper_id)).rowcount
            if removed == 1:
                _bump(conn, paper_id, local_upvotes=-1)
            return False

        return write(self.engine, work)

    def has_upvoted(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        ids = list(paper_ids)
        if not ids:
            return set()
        with self.engine.connect() as conn:
            return set(conn.execute(select(upvotes.c.paper_id).where(
                upvotes.c.user_id == user_id, upvotes.c.paper_id.in_(ids))).scalars())

    def upvote_rows(self, paper_id: str) -> int:
        """Votes counted from the votes themselves (for checks; pages use :meth:`counts`)."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(upvotes).where(
                upvotes.c.paper_id == paper_id)).scalar_one()

    def upvoted_by(self, user_id: int, limit: int = 50) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(upvotes.c.paper_id).join(papers, papers.c.id == upvotes.c.paper_id)
                .where(upvotes.c.user_id == user_id, papers.c.hidden.is_(False))
                .order_by(upvotes.c.created_at.desc()).limit(limit)).scalars())

    def counts(self, paper_ids: Sequence[str]) -> dict[str, Counts]:
        """Imported (Hugging Face) and local upvote/comment counts for each id."""
        ids = list(dict.fromkeys(paper_ids))
        out = {pid: Counts() for pid in ids}
        if not ids:
            return out
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                for pid, up, cm in conn.execute(
                    select(daily_listings.c.paper_id, func.max(daily_listings.c.upvotes),
                           func.max(daily_listings.c.comments))
                    .where(daily_listings.c.paper_id.in_(chunk))
                    .group_by(daily_listings.c.paper_id)
                ):
                    out[pid].upvotes_imported = up or 0
                    out[pid].comments_imported = cm or 0
                for pid, up, cm in conn.execute(
                    select(paper_stats.c.paper_id, paper_stats.c.local_upvotes,
                           paper_stats.c.local_comments).where(paper_stats.c.paper_id.in_(chunk))
                ):
                    out[pid].upvotes_local = up
                    out[pid].comments_local = cm
        return out

    def recount(self) -> int:
        """Rebuild ``paper_stats`` from votes and comments (repair tool); returns rows written."""

        def work(conn):
            conn.execute(delete(paper_stats))
            votes = dict(conn.execute(select(upvotes.c.paper_id, func.count())
                                      .group_by(upvotes.c.paper_id)).all())
            said = dict(conn.execute(
                select(comments.c.paper_id, func.count())
                .where(comments.c.deleted_at.is_(None), comments.c.hidden.is_(False))
                .group_by(comments.c.paper_id)).all())
            now = utcnow()
            rows = [{"paper_id": pid, "local_upvotes": votes.get(pid, 0),
                     "local_comments": said.get(pid, 0), "updated_at": now}
                    for pid in set(votes) | set(said)]
            if rows:
                conn.execute(paper_stats.insert(), rows)
            return len(rows)

        return write(self.engine, work)

    # -- comments -------------------------------------------------------------------------

    def add_comment(self, user_id: int, paper_id: str, body: str) -> int:
        def work(conn):
            _visible_paper(conn, paper_id)
            cid = conn.execute(comments.insert().values(
                paper_id=paper_id, user_id=user_id, body=body, created_at=utcnow(),
                hidden=False)).inserted_primary_key[0]
            _bump(conn, paper_id, local_comments=1)
            return cid

        return write(self.engine, work)

    def get_comment(self, comment_id: int) -> Comment | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._comment_query().where(comments.c.id == comment_id)).mappings().first()
        return self._comment(row) if row else None

    def comments_for(self, paper_id: str, limit: int = 500) -> list[Comment]:
        """All comments of a paper, oldest first; deleted/hidden ones flagged (not dropped)."""
        with self.engine.connect() as conn:
            rows = conn.execute(self._comment_query().where(comments.c.paper_id == paper_id)
                                .order_by(comments.c.created_at, comments.c.id).limit(limit)).mappings()
            return [self._comment(r) for r in rows]

    def edit_comment(self, comment_id: int, user_id: int, body: str) -> bool:
        """Only the author edits, and only a comment that is neither deleted nor hidden."""
        def work(conn):
            return conn.execute(update(comments).where(
                comments.c.id == comment_id, comments.c.user_id == user_id,
                comments.c.deleted_at.is_(None), comments.c.hidden.is_(False),
            ).values(body=body, edited_at=utcnow())).rowcount

        return write(self.engine, work) == 1

    def delete_comment(self, comment_id: int, user_id: int) -> bool:
        def work(conn):
            row = conn.execute(select(comments.c.paper_id, comments.c.hidden).where(
                comments.c.id == comment_id, comments.c.user_id == user_id,
                comments.c.deleted_at.is_(None))).first()
            if row is None:
                return False
            conn.execute(update(comments).where(comments.c.id == comment_id)
                         .values(body="", deleted_at=utcnow()))
            if not row.hidden:
                _bump(conn, row.paper_id, local_comments=-1)
            return True

        return write(self.engine, work)

    def set_comment_hidden(self, comment_id: int, hidden: bool) -> bool:
        """Admin moderation; False when the comment does not exist or is already so."""
        def work(conn):
            row = conn.execute(select(comments.c.paper_id, comments.c.hidden, comments.c.deleted_at)
                               .where(comments.c.id == comment_id)).first()
            if row is None or bool(row.hidden) == hidden:
                return False
            conn.execute(update(comments).where(comments.c.id == comment_id).values(hidden=hidden))
            if row.deleted_at is None:
                _bump(conn, row.paper_id, local_comments=-1 if hidden else 1)
            return True

        return write(self.engine, work)

    @staticmethod
    def _comment_query():
        return select(comments, users.c.username).join(users, users.c.id == comments.c.user_id)

    @staticmethod
    def _comment(row) -> Comment:
        return Comment(id=row["id"], paper_id=row["paper_id"], user_id=row["user_id"],
                       username=row["username"], body=row["body"], created_at=row["created_at"],
                       edited_at=row["edited_at"], deleted=row["deleted_at"] is not None,
                       hidden=bool(row["hidden"]))

    # -- papers: moderation and submissions -----------------------------------------------

    def set_paper_hidden(self, paper_id: str, hidden: bool) -> bool:
        def work(conn):
            return conn.execute(update(papers).where(papers.c.id == paper_id)
                                .values(hidden=hidden)).rowcount

        return write(self.engine, work) == 1

    def hidden_paper_ids(self, limit: int = 200) -> list[str]:
        """Papers administrators hid, most recently changed first (the moderation page)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(papers.c.id).where(papers.c.hidden == true())
                                     .order_by(papers.c.modified_at.desc()).limit(limit)).scalars())

    def is_paper_hidden(self, paper_id: str) -> bool | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(papers.c.hidden).where(papers.c.id == paper_id)).first()
        return None if row is None else bool(row[0])

    def submissions_of(self, username: str, limit: int = 50) -> list[tuple[str, date]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(daily_listings.c.paper_id, daily_listings.c.listed_on)
                .join(papers, papers.c.id == daily_listings.c.paper_id)
                .where(daily_listings.c.source == SUBMITTED_SOURCE,
                       daily_listings.c.submitter == username, papers.c.hidden.is_(False))
                .order_by(daily_listings.c.listed_on.desc(), daily_listings.c.first_seen_at.desc())
                .limit(limit))]

    # -- collections ----------------------------------------------------------------------

    def create_collection(self, user_id: int, name: str, description: str = "",
                          is_public: bool = False) -> int:
        now = utcnow()

        def work(conn):
            exists = conn.execute(select(collections.c.id).where(
                collections.c.user_id == user_id, collections.c.name == name)).first()
            if exists:
                raise CollectionExists(name)
            return conn.execute(collections.insert().values(
                user_id=user_id, name=name, description=description, is_public=is_public,
                created_at=now, updated_at=now)).inserted_primary_key[0]

        try:
            return write(self.engine, work)
        except IntegrityError:
            raise CollectionExists(name) from None

    def update_collection(self, collection_id: int, user_id: int, name: str, description: str,
                          is_public: bool) -> bool:
        def work(conn):
            return conn.execute(update(collections).where(
                collections.c.id == collection_id, collections.c.user_id == user_id
            ).values(name=name, description=description, is_public=is_public,
                     updated_at=utcnow())).rowcount

        try:
            return write(self.engine, work) == 1
        except IntegrityError:
            raise CollectionExists(name) from None

    def delete_collection(self, collection_id: int, user_id: int) -> bool:
        def work(conn):
            owned = conn.execute(select(collections.c.id).where(
                collections.c.id == collection_id, collections.c.user_id == user_id)).first()
            if not owned:
                return False
            conn.execute(delete(collection_items).where(collection_items.c.collection_id == collection_id))
            conn.execute(delete(collections).where(collections.c.id == collection_id))
            return True

        return write(self.engine, work)

    def get_collection(self, collection_id: int) -> Collection | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._collection_query().where(collections.c.id == collection_id)
                               ).mappings().first()
        return self._collection(row) if row else None

    def collections_of(self, user_id: int, public_only: bool = False) -> list[Collection]:
        q = self._collection_query().where(collections.c.user_id == user_id)
        if public_only:
            q = q.where(collections.c.is_public.is_(True))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(collections.c.updated_at.desc())).mappings().all()
        return [self._collection(r) for r in rows]

    def collection_items(self, collection_id: int, include_hidden: bool = False) -> list[CollectionItem]:
        q = (select(papers, collection_items.c.note, collection_items.c.added_at)
             .join(collection_items, collection_items.c.paper_id == papers.c.id)
             .where(collection_items.c.collection_id == collection_id)
             .order_by(collection_items.c.added_at, papers.c.id))
        if not include_hidden:
            q = q.where(papers.c.hidden.is_(False))
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [CollectionItem(paper_from_row(r), r["note"], r["added_at"]) for r in rows]

    def collections_with(self, user_id: int, paper_id: str) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.execute(
                select(collection_items.c.collection_id)
                .join(collections, collections.c.id == collection_items.c.collection_id)
                .where(collections.c.user_id == user_id, collection_items.c.paper_id == paper_id)
            ).scalars())

    def add_to_collection(self, collection_id: int, user_id: int, paper_id: str, note: str = "") -> bool:
        """Add (or re-note) a paper in one of the user's own collections."""
        now = utcnow()

        def work(conn):
            owned = conn.execute(select(collections.c.id).where(
                collections.c.id == collection_id, collections.c.user_id == user_id)).first()
            if not owned:
                return False
            _visible_paper(conn, paper_id)
            stmt = _insert(conn, collection_items).values(
                collection_id=collection_id, paper_id=paper_id, note=note, added_at=now)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["collection_id", "paper_id"], set_={"note": stmt.excluded.note}))
            conn.execute(update(collections).where(collections.c.id == collection_id)
                         .values(updated_at=now))
            return True

        return write(self.engine, work)

    def remove_from_collection(self, collection_id: int, user_id: int, paper_id: str) -> bool:
        def work(conn):
            owned = conn.execute(select(collections.c.id).where(
                collections.c.id == collection_id, collections.c.user_id == user_id)).first()
            if not owned:
                return False
            return conn.execute(delete(collection_items).where(
                collection_items.c.collection_id == collection_id,
                collection_items.c.paper_id == paper_id)).rowcount == 1

        return write(self.engine, work)

    @staticmethod
    def _collection_query():
        size = (select(func.count()).select_from(collection_items)
                .where(collection_items.c.collection_id == collections.c.id)
                .correlate(collections).scalar_subquery())
        return (select(collections, users.c.username, size.label("size"))
                .join(users, users.c.id == collections.c.user_id))

    @staticmethod
    def _collection(row) -> Collection:
        return Collection(id=row["id"], user_id=row["user_id"], owner=row["username"],
                          name=row["name"], description=row["description"],
                          is_public=bool(row["is_public"]), created_at=row["created_at"],
                          updated_at=row["updated_at"], size=row["size"])


def _one_voter_at_a_time(conn: Connection, user_id: int, paper_id: str) -> None:
    """Serialize one user's votes on one paper. PostgreSQL runs concurrent toggles side by side
    (READ COMMITTED): two could each see the other's vote and both remove it, losing a toggle.
    A transaction-scoped advisory lock on (user, paper) makes them take turns; SQLite already
    runs one write at a time."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:user_id, hashtext(:paper_id))"),
                     {"user_id": user_id, "paper_id": paper_id})
