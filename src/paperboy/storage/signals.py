"""What each reader tells Paperboy about their taste, and what "For you" keeps to rank for them.

Signals belong to one account and are read and changed only with that account's id: "more like
this" / "less like this", an imported library, follows (authors, organizations, categories) and
keyword rules; upvotes and collections (``paperboy.storage.community``) count as positives too.
A reader's fitted model is cached under a digest of everything it was fitted on
(:meth:`ReaderSignalRepository.profile`), so a changed signal means one cheap refit, and an
unchanged one none. The private feed token is kept only as its SHA-256.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    select,
    union,
    union_all,
)

from paperboy.errors import NotFound, PaperboyError
from paperboy.storage.papers import _insert, name_key, utcnow
from paperboy.storage.schema import (
    collection_items,
    collections,
    daily_listings,
    embeddings,
    papers,
    reader_feed_tokens,
    reader_follows,
    reader_library,
    reader_models,
    reader_rules,
    reader_signals,
    reco_vocabularies,
    upvotes,
)
from paperboy.storage.writes import write

SIGNAL_KINDS = ("more", "less")
FOLLOW_KINDS = ("author", "organization", "category")
RULE_ACTIONS = ("include", "exclude")
#: most follows / rules one reader may keep (a page of them stays readable and cheap to apply)
MAX_FOLLOWS = 200
MAX_RULES = 100
FEED_TOKEN_PREFIX = "pbf_"


class LimitReached(PaperboyError):
    """A reader has as many follows or rules as we keep."""


@dataclass(frozen=True)
class Follow:
    id: int
    kind: str
    value: str
    key: str
    created_at: datetime


@dataclass(frozen=True)
class Rule:
    id: int
    action: str
    query: str
    created_at: datetime


@dataclass(frozen=True)
class Profile:
    """The papers a reader's model learns from, and a digest naming exactly this set."""

    positives: list[str]
    negatives: list[str]

    @property
    def version(self) -> str:
        h = hashlib.sha256()
        for pid in sorted(self.positives):
            h.update(b"+" + pid.encode())
        for pid in sorted(self.negatives):
            h.update(b"-" + pid.encode())
        return h.hexdigest()[:32]


@dataclass(frozen=True)
class CandidateRow:
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    organization: str | None
    day: date | str | None
    published: datetime | None


@dataclass(frozen=True)
class PaperText:
    id: str
    title: str
    abstract: str
    published: datetime | None
    vector: np.ndarray | None


def _liked_statement():
    """(user id, paper id) of what readers upvoted, collected or imported, visible papers only:
    built once (bind parameter ``uids``), as composing the union costs more than running it."""
    uids = bindparam("uids", expanding=True)
    liked = union(
        select(upvotes.c.user_id, upvotes.c.paper_id).where(upvotes.c.user_id.in_(uids)),
        select(collections.c.user_id, collection_items.c.paper_id)
        .join(collection_items, collection_items.c.collection_id == collections.c.id)
        .where(collections.c.user_id.in_(uids)),
        select(reader_library.c.user_id, reader_library.c.paper_id)
        .where(reader_library.c.user_id.in_(uids)),
    ).subquery()
    return (select(liked.c.user_id, liked.c.paper_id)
            .join(papers, papers.c.id == liked.c.paper_id).where(papers.c.hidden.is_(False)))


_LIKED = _liked_statement()
_SIGNALED = select(reader_signals.c.user_id, reader_signals.c.paper_id, reader_signals.c.kind
                   ).where(reader_signals.c.user_id.in_(bindparam("uids", expanding=True)))


def follow_key(kind: str, value: str) -> str:
    """Authors fold like the author index (accents and case off); categories keep their case
    (cs.CL); organizations compare case-insensitively."""
    value = " ".join(value.split())
    if kind == "author":
        return name_key(value)
    if kind == "organization":
        return value.casefold()[:300]
    return value[:300]


def feed_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _visible(conn, paper_id: str) -> None:
    row = conn.execute(select(papers.c.hidden).where(papers.c.id == paper_id)).first()
    if row is None or row[0]:
        raise NotFound(f"no paper {paper_id}")


class ReaderSignalRepository:
    def __init__(self, engine):
        self.engine = engine

    # -- more / less like this ------------------------------------------------------------

    def set_signal(self, user_id: int, paper_id: str, kind: str | None) -> str | None:
        """Set ("more"/"less") or clear (None) the reader's signal on a paper; returns it."""
        if kind is not None and kind not in SIGNAL_KINDS:
            raise ValueError(f"signal must be one of {SIGNAL_KINDS}, not {kind!r}")

        def work(conn):
            _visible(conn, paper_id)
            conn.execute(delete(reader_signals).where(reader_signals.c.user_id == user_id,
                                                      reader_signals.c.paper_id == paper_id))
            if kind is not None:
                conn.execute(reader_signals.insert().values(
                    user_id=user_id, paper_id=paper_id, kind=kind, created_at=utcnow()))
            return kind

        return write(self.engine, work)

    def signals_for(self, user_id: int, paper_ids: Iterable[str]) -> dict[str, str]:
        """paper id -> "more"/"less" for those of ``paper_ids`` the reader marked (one query)."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(reader_signals.c.paper_id, reader_signals.c.kind)
                                     .where(reader_signals.c.user_id == user_id,
                                            reader_signals.c.paper_id.in_(ids))).all())

    def all_signals(self, user_id: int) -> dict[str, str]:
        """paper id -> "more"/"less" for every paper the reader marked."""
        with self.engine.connect() as conn:
            return dict(conn.execute(select(reader_signals.c.paper_id, reader_signals.c.kind)
                                     .where(reader_signals.c.user_id == user_id)).all())

    def signals(self, user_id: int) -> list[tuple[str, str, str, datetime]]:
        """(paper id, title, kind, when), newest first."""
        return self._titled(reader_signals, user_id, reader_signals.c.kind,
                            reader_signals.c.created_at)

    # -- imported library -----------------------------------------------------------------

    def add_to_library(self, user_id: int, entries: Sequence[tuple[str, str]]) -> int:
        """Add (paper id, entry label) pairs; returns how many were new (re-imports add none)."""
        if not entries:
            return 0
        now = utcnow()
        rows = [{"user_id": user_id, "paper_id": pid, "entry": label[:255], "added_at": now}
                for pid, label in dict((p, lab) for p, lab in entries).items()]

        def work(conn):
            new = 0
            for row in rows:
                new += conn.execute(_insert(conn, reader_library).values(**row)
                                    .on_conflict_do_nothing(index_elements=["user_id", "paper_id"])
                                    .returning(reader_library.c.paper_id)).first() is not None
            return new

        return write(self.engine, work)

    def library(self, user_id: int) -> list[tuple[str, str, str, datetime]]:
        """(paper id, title, entry label, added), newest first."""
        return self._titled(reader_library, user_id, reader_library.c.entry,
                            reader_library.c.added_at)

    def _titled(self, table, user_id: int, label, when) -> list[tuple[str, str, str, datetime]]:
        """A reader's rows of ``table`` as (paper id, title, label, when), newest first."""
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                select(table.c.paper_id, papers.c.title, label, when)
                .join(papers, papers.c.id == table.c.paper_id)
                .where(table.c.user_id == user_id)
                .order_by(when.desc(), table.c.paper_id))]

    def remove_from_library(self, user_id: int, paper_id: str | None = None) -> int:
        """One paper, or (None) the whole library; returns rows removed."""
        cond = reader_library.c.user_id == user_id
        if paper_id is not None:
            cond = and_(cond, reader_library.c.paper_id == paper_id)
        return write(self.engine, lambda conn: conn.execute(delete(reader_library).where(cond)).rowcount)

    def visible_ids(self, paper_ids: Sequence[str]) -> set[str]:
        """Those of ``paper_ids`` the store has and shows."""
        ids = list(dict.fromkeys(paper_ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                found.update(conn.execute(select(papers.c.id).where(
                    papers.c.id.in_(ids[start:start + 900]), papers.c.hidden.is_(False))).scalars())
        return found

    def ids_by_doi(self, dois: Sequence[str]) -> dict[str, str]:
        """Lower-cased DOI -> paper id, for the DOIs some stored paper carries."""
        wanted = {d.lower() for d in dois if d}
        if not wanted:
            return {}
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for pid, doi in conn.execute(select(papers.c.id, papers.c.doi).where(
                    papers.c.doi.is_not(None), func.lower(papers.c.doi).in_(sorted(wanted)),
                    papers.c.hidden.is_(False))):
                out.setdefault(doi.lower(), pid)
        return out

    def ids_by_title(self, title_keys: set[str], normalize) -> dict[str, str]:
        """Normalized title -> paper id, by one streamed pass over the stored titles (only
        for library entries that have neither an arXiv id nor a known DOI)."""
        if not title_keys:
            return {}
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
                select(papers.c.id, papers.c.title).where(papers.c.hidden.is_(False)))
            for pid, title in rows:
                key = normalize(title or "")
                if key in title_keys and key not in out:
                    out[key] = pid
        return out

    # -- follows --------------------------------------------------------------------------

    def follow(self, user_id: int, kind: str, value: str) -> Follow:
        """Follow an author / organization / category (again: the existing follow)."""
        if kind not in FOLLOW_KINDS:
            raise ValueError(f"kind must be one of {FOLLOW_KINDS}, not {kind!r}")
        value = " ".join(value.split())[:300]
        key = follow_key(kind, value)

        def work(conn):
            found = conn.execute(select(reader_follows).where(
                reader_follows.c.user_id == user_id, reader_follows.c.kind == kind,
                reader_follows.c.value_key == key)).mappings().first()
            if found is None:
                n = conn.execute(select(func.count()).select_from(reader_follows)
                                 .where(reader_follows.c.user_id == user_id)).scalar_one()
                if n >= MAX_FOLLOWS:
                    raise LimitReached(f"you follow {n} things already (at most {MAX_FOLLOWS})")
                conn.execute(reader_follows.insert().values(
                    user_id=user_id, kind=kind, value=value, value_key=key, created_at=utcnow()))
                found = conn.execute(select(reader_follows).where(
                    reader_follows.c.user_id == user_id, reader_follows.c.kind == kind,
                    reader_follows.c.value_key == key)).mappings().first()
            return _follow(found)

        return write(self.engine, work)

    def follows(self, user_id: int) -> list[Follow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(reader_follows).where(reader_follows.c.user_id == user_id)
                                .order_by(reader_follows.c.kind, reader_follows.c.value_key)
                                ).mappings().all()
        return [_follow(r) for r in rows]

    def follows_many(self, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
        out: dict[int, list[Follow]] = {u: [] for u in user_ids}
        if not user_ids:
            return out
        with self.engine.connect() as conn:
            for r in conn.execute(select(reader_follows)
                                  .where(reader_follows.c.user_id.in_(list(user_ids)))).mappings():
                out[r["user_id"]].append(_follow(r))
        return out

    def unfollow(self, user_id: int, follow_id: int) -> bool:
        return write(self.engine, lambda conn: conn.execute(delete(reader_follows).where(
            reader_follows.c.user_id == user_id, reader_follows.c.id == follow_id)).rowcount) == 1

    # -- keyword rules --------------------------------------------------------------------

    def add_rule(self, user_id: int, action: str, query: str) -> Rule:
        if action not in RULE_ACTIONS:
            raise ValueError(f"action must be one of {RULE_ACTIONS}, not {action!r}")

        def work(conn):
            cond = and_(reader_rules.c.user_id == user_id, reader_rules.c.action == action,
                        reader_rules.c.query == query)
            found = conn.execute(select(reader_rules).where(cond)).mappings().first()
            if found is None:
                n = conn.execute(select(func.count()).select_from(reader_rules)
                                 .where(reader_rules.c.user_id == user_id)).scalar_one()
                if n >= MAX_RULES:
                    raise LimitReached(f"you have {n} rules already (at most {MAX_RULES})")
                conn.execute(reader_rules.insert().values(user_id=user_id, action=action,
                                                          query=query, created_at=utcnow()))
                found = conn.execute(select(reader_rules).where(cond)).mappings().first()
            return _rule(found)

        return write(self.engine, work)

    def rules(self, user_id: int) -> list[Rule]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(reader_rules).where(reader_rules.c.user_id == user_id)
                                .order_by(reader_rules.c.id)).mappings().all()
        return [_rule(r) for r in rows]

    def rules_many(self, user_ids: Sequence[int]) -> dict[int, list[Rule]]:
        out: dict[int, list[Rule]] = {u: [] for u in user_ids}
        if not user_ids:
            return out
        with self.engine.connect() as conn:
            for r in conn.execute(select(reader_rules)
                                  .where(reader_rules.c.user_id.in_(list(user_ids)))
                                  .order_by(reader_rules.c.id)).mappings():
                out[r["user_id"]].append(_rule(r))
        return out

    def remove_rule(self, user_id: int, rule_id: int) -> bool:
        return write(self.engine, lambda conn: conn.execute(delete(reader_rules).where(
            reader_rules.c.user_id == user_id, reader_rules.c.id == rule_id)).rowcount) == 1

    # -- what a model learns from ---------------------------------------------------------

    def profiles(self, user_ids: Sequence[int]) -> dict[int, Profile]:
        """Each reader's positives (upvoted, collected, "more like this", imported; minus
        "less like this") and explicit negatives, in four queries for any number of readers."""
        ids = list(dict.fromkeys(user_ids))
        pos: dict[int, set[str]] = {u: set() for u in ids}
        neg: dict[int, set[str]] = {u: set() for u in ids}
        if not ids:
            return {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for uid, pid in conn.execute(_LIKED, {"uids": chunk}):
                    pos[uid].add(pid)
                for uid, pid, kind in conn.execute(_SIGNALED, {"uids": chunk}):
                    (pos if kind == "more" else neg)[uid].add(pid)
        return {u: Profile(sorted(pos[u] - neg[u]), sorted(neg[u])) for u in ids}

    def profile(self, user_id: int) -> Profile:
        return self.profiles([user_id])[user_id]

    def same_day_sample(self, paper_ids: Sequence[str], n: int, seed: str,
                        per_day: int = 400, max_days: int = 20) -> list[str]:
        """Up to ``n`` other papers first published on the same days as ``paper_ids``: the
        implicit negatives (what the reader saw beside what they liked and did not pick).
        Deterministic for a seed, so the same signals give the same model."""
        if not paper_ids or n <= 0:
            return []
        with self.engine.connect() as conn:
            days = set()
            for start in range(0, len(paper_ids), 900):
                for (published,) in conn.execute(select(papers.c.published).where(
                        papers.c.id.in_(list(paper_ids[start:start + 900])))):
                    if published is not None:
                        days.add(published.date() if isinstance(published, datetime)
                                 else datetime.fromisoformat(str(published)).date())
            rng = random.Random(seed)
            days = sorted(days)
            if len(days) > max_days:
                days = sorted(rng.sample(days, max_days))
            # enough per day for the sample to come from every day, never a whole big day
            per_day = min(per_day, max(50, 2 * n // max(1, len(days))))
            taken = set(paper_ids)
            pool: list[str] = []
            for day in days:
                lo = datetime(day.year, day.month, day.day)
                pool.extend(pid for pid in conn.execute(
                    select(papers.c.id).where(papers.c.published >= lo,
                                              papers.c.published < lo + timedelta(days=1),
                                              papers.c.hidden.is_(False))
                    .order_by(papers.c.id).limit(per_day)).scalars() if pid not in taken)
        pool = sorted(set(pool))
        return rng.sample(pool, min(n, len(pool)))

    def texts(self, paper_ids: Sequence[str], model: str | None = None) -> list[PaperText]:
        """Title, abstract and (when ``model`` names an embedding model) the stored vector of
        each paper, in the order given; unknown ids are skipped."""
        ids = list(dict.fromkeys(paper_ids))
        found: dict[str, PaperText] = {}
        vecs: dict[str, np.ndarray] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                for pid, title, abstract, published in conn.execute(
                        select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.published)
                        .where(papers.c.id.in_(chunk))):
                    found[pid] = (title, abstract, published)
                if model:
                    for pid, blob in conn.execute(
                            select(embeddings.c.paper_id, embeddings.c.vector)
                            .where(embeddings.c.paper_id.in_(chunk), embeddings.c.model == model)):
                        vecs[pid] = np.frombuffer(blob, dtype="<f4")
        return [PaperText(pid, found[pid][0] or "", found[pid][1] or "", found[pid][2],
                          vecs.get(pid)) for pid in ids if pid in found]

    def period_papers(self, start: date, end: date, lo: datetime, hi: datetime,
                      cap: int = 5000) -> list[CandidateRow]:
        """The visible papers of a period (listed on a day in [start, end), or never listed and
        first published in [lo, hi)), newest first, at most ``cap``: what "For you" ranks."""
        dl = daily_listings
        listed = (select(dl.c.paper_id.label("pid"), func.min(dl.c.listed_on).label("day"),
                         func.max(dl.c.organization).label("org"))
                  .where(dl.c.listed_on >= start, dl.c.listed_on < end)
                  .group_by(dl.c.paper_id))
        unlisted = (select(papers.c.id.label("pid"), literal(None, Date).label("day"),
                           literal(None, String).label("org"))
                    .where(papers.c.published >= lo, papers.c.published < hi,
                           ~exists().where(dl.c.paper_id == papers.c.id)))
        cand = union_all(listed, unlisted).subquery("cand")
        q = (select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors,
                    papers.c.categories, func.coalesce(cand.c.org, papers.c.organization),
                    cand.c.day, papers.c.published)
             .join(cand, cand.c.pid == papers.c.id)
             .where(papers.c.hidden.is_(False))
             .order_by(papers.c.published.desc(), papers.c.id.desc())
             .limit(cap))
        with self.engine.connect() as conn:
            return [CandidateRow(*r) for r in conn.execute(q)]

    # -- fitted models and the shared vocabulary ------------------------------------------

    def cached_models(self, user_ids: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        if not user_ids:
            return {}
        with self.engine.connect() as conn:
            return {u: (v, bytes(m)) for u, v, m in conn.execute(
                select(reader_models.c.user_id, reader_models.c.version, reader_models.c.model)
                .where(reader_models.c.user_id.in_(list(user_ids))))}

    def cached_model(self, user_id: int) -> tuple[str, bytes] | None:
        return self.cached_models([user_id]).get(user_id)

    def cached_version(self, user_id: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(reader_models.c.version)
                                .where(reader_models.c.user_id == user_id)).scalar()

    def put_model(self, user_id: int, version: str, model: bytes) -> None:
        def work(conn):
            stmt = _insert(conn, reader_models).values(user_id=user_id, version=version,
                                                       model=model, fitted_at=utcnow())
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"version": stmt.excluded.version, "model": stmt.excluded.model,
                      "fitted_at": stmt.excluded.fitted_at}))

        write(self.engine, work)

    def vocabulary(self) -> tuple[int, int, bytes] | None:
        """(id, papers it was fitted on, bytes) of the newest shared vocabulary."""
        with self.engine.connect() as conn:
            row = conn.execute(select(reco_vocabularies.c.id, reco_vocabularies.c.n_docs,
                                      reco_vocabularies.c.data)
                               .order_by(reco_vocabularies.c.id.desc()).limit(1)).first()
        return (row[0], row[1], bytes(row[2])) if row else None

    def vocabulary_id(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(reco_vocabularies.c.id))).scalar()

    def put_vocabulary(self, data: bytes, n_docs: int) -> int:
        """Store a new vocabulary (older ones go: models fitted on them are refit)."""
        def work(conn):
            new_id = conn.execute(reco_vocabularies.insert().values(
                n_docs=n_docs, data=data, created_at=utcnow())).inserted_primary_key[0]
            conn.execute(delete(reco_vocabularies).where(reco_vocabularies.c.id < new_id))
            return new_id

        return write(self.engine, work)

    def recent_ids(self, n: int) -> list[str]:
        """The ``n`` newest visible papers (for fitting the shared vocabulary)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(papers.c.id).where(papers.c.hidden.is_(False))
                                     .order_by(papers.c.published.desc()).limit(n)).scalars())

    # -- private feed tokens --------------------------------------------------------------

    def new_feed_token(self, user_id: int) -> str:
        """A new secret for the reader's private feed (the old URL stops working)."""
        token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(24)

        def work(conn):
            conn.execute(delete(reader_feed_tokens).where(reader_feed_tokens.c.user_id == user_id))
            conn.execute(reader_feed_tokens.insert().values(
                user_id=user_id, token_hash=feed_token_digest(token), created_at=utcnow()))

        write(self.engine, work)
        return token

    def revoke_feed_token(self, user_id: int) -> bool:
        return write(self.engine, lambda conn: conn.execute(delete(reader_feed_tokens).where(
            reader_feed_tokens.c.user_id == user_id)).rowcount) == 1

    def feed_token_created(self, user_id: int) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(reader_feed_tokens.c.created_at)
                                .where(reader_feed_tokens.c.user_id == user_id)).scalar()

    def user_for_feed_token(self, token: str) -> int | None:
        if not token or len(token) > 200:
            return None
        with self.engine.connect() as conn:
            return conn.execute(select(reader_feed_tokens.c.user_id).where(
                reader_feed_tokens.c.token_hash == feed_token_digest(token))).scalar()

    # -- the reader's own copy, and forgetting it -----------------------------------------

    def export(self, user_id: int) -> dict:
        """Everything "For you" keeps about a reader, as plain JSON-able data."""
        def ts(value):
            return value.isoformat() + "Z" if value else None

        return {
            "signals": [{"paper_id": p, "title": t, "signal": k, "created_at": ts(c)}
                        for p, t, k, c in self.signals(user_id)],
            "library": [{"paper_id": p, "title": t, "entry": e, "added_at": ts(a)}
                        for p, t, e, a in self.library(user_id)],
            "follows": [{"kind": f.kind, "value": f.value, "created_at": ts(f.created_at)}
                        for f in self.follows(user_id)],
            "rules": [{"action": r.action, "query": r.query, "created_at": ts(r.created_at)}
                      for r in self.rules(user_id)],
            "private_feed": {"created_at": ts(self.feed_token_created(user_id))},
        }

    def delete_all(self, user_id: int) -> int:
        """Forget the reader's signals, library, follows, rules, model and feed token."""
        def work(conn):
            n = 0
            for table in (reader_signals, reader_library, reader_follows, reader_rules,
                          reader_models, reader_feed_tokens):
                n += conn.execute(delete(table).where(table.c.user_id == user_id)).rowcount
            return n

        return write(self.engine, work)


def _follow(row) -> Follow:
    return Follow(id=row["id"], kind=row["kind"], value=row["value"], key=row["value_key"],
                  created_at=row["created_at"])


def _rule(row) -> Rule:
    return Rule(id=row["id"], action=row["action"], query=row["query"],
                created_at=row["created_at"])
