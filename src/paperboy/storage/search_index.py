"""Search-side storage: what the keyword index is fed from, stored embeddings, filter masks.

Keyword search: on PostgreSQL a weighted ``tsvector`` with a GIN index, kept in step with
``papers`` by a trigger (migration 0002_search) and queried here; on SQLite the tantivy index of
paperboy.search.keywords, fed from :meth:`SearchIndexRepository.keyword_docs` in the order of
``search_docs.rev``, which triggers renew on every change of a searchable field (migration
0005_keyword_revs). Embeddings are rows of float32 bytes keyed by (paper, model); the in-process
vector index (paperboy.search.vectors) is a cache of them and reloads what changed via ``seq``.
On PostgreSQL with pgvector each model's vectors are also written, in the same transaction, to a
pgvector table with an HNSW index (paperboy.storage.pgvector), which serves every process.

Queries arrive already parsed (paperboy.search.query): plain terms (OR-ed, ranked) and phrases
(required). Nothing from the user is ever pasted into SQL: terms are bound parameters.
"""

from __future__ import annotations

import hashlib
from datetime import date
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Iterable, Iterator, Sequence

import numpy as np
import orjson
from sqlalchemy import bindparam, delete, func, select, text

from paperboy.query import SearchFilters
from paperboy.storage.database import like_escape
from paperboy.storage.papers import name_key, sqlite_datetime_text
from paperboy.storage.schema import embeddings, paper_categories, papers, search_docs


def text_hash(title: str, abstract: str) -> str:
    """Digest of the embedded text: a changed title/abstract means the vector is stale."""
    return hashlib.blake2b(f"{title}\n{abstract}".encode(), digest_size=16).hexdigest()


@dataclass
class LexicalHit:
    doc_id: int
    paper_id: str | None
    score: float


class SearchIndexRepository:
    """Everything search reads or writes in the database."""

    def __init__(self, engine):
        self.engine = engine
        self._pgvector = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def pgvector(self):
        """The pgvector tables (PostgreSQL; ``.available()`` says whether the database has them)."""
        if self._pgvector is None:
            from paperboy.storage.pgvector import PgVectorRepository

            self._pgvector = PgVectorRepository(self.engine)
        return self._pgvector

    @property
    def embed_queue(self):
        """The shared queue of embedding work (PostgreSQL), else None."""
        if self.dialect != "postgresql":
            return None
        from paperboy.storage.embed_queue import EmbedQueue

        return EmbedQueue(self.engine)

    def _pg_vectors(self):
        """The pgvector repository when vectors are mirrored there, else None (SQLite)."""
        if self.dialect == "postgresql" and self.pgvector.available():
            return self.pgvector
        return None

    # -- filters ----------------------------------------------------------------------------

    def _bound(self, moment: datetime):
        """A datetime bound for plain-text SQL: on SQLite in the stored text form, so the text
        comparison is exact at the boundary (sqlite3's adapter would drop the microseconds)."""
        return sqlite_datetime_text(moment) if self.dialect == "sqlite" else moment

    def _filter_sql(self, filters: SearchFilters | None, params: dict) -> str:
        """SQL conditions on ``p`` (papers) for the filters; always hides hidden papers."""
        conds = ["p.hidden = :f_hidden"]
        params["f_hidden"] = False
        if filters is None:
            return " AND ".join(conds)
        # search dates are the paper's first-version date as arXiv gives it (UTC days)
        if filters.since:
            conds.append("p.published >= :f_since")
            params["f_since"] = self._bound(datetime.combine(filters.since, time.min))
        if filters.until:
            conds.append("p.published < :f_until")
            params["f_until"] = self._bound(
                datetime.combine(filters.until + timedelta(days=1), time.min))
        if filters.categories:
            ors = []
            for i, cat in enumerate(filters.categories):
                if "." in cat:
                    ors.append(f"c.category = :f_cat{i}")
                    params[f"f_cat{i}"] = cat
                else:  # an archive: cs -> cs.*
                    ors.append(f"c.category LIKE :f_cat{i} ESCAPE '\\'")
                    params[f"f_cat{i}"] = like_escape(cat) + ".%"
            conds.append(
                "EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_id = p.id AND ("
                + " OR ".join(ors) + "))"
            )
        for i, author in enumerate(filters.authors):
            key = name_key(author)
            conds.append(
                "EXISTS (SELECT 1 FROM paper_authors a WHERE a.paper_id = p.id AND "
                f"(a.name_key = :f_au{i} OR a.name_key LIKE :f_aus{i} ESCAPE '\\'))"
            )
            params[f"f_au{i}"] = key
            params[f"f_aus{i}"] = "% " + like_escape(key)
        if filters.listed_only:
            conds.append("EXISTS (SELECT 1 FROM daily_listings l WHERE l.paper_id = p.id)")
        if filters.with_code:
            conds.append("p.code_url IS NOT NULL")
        return " AND ".join(conds)

    def filter_doc_ids(self, filters: SearchFilters | None) -> np.ndarray:
        """Sorted doc ids of visible papers passing the filters (the mask for vector search)."""
        params: dict = {}
        where = self._filter_sql(filters, params)
        sql = text(
            f"SELECT d.doc_id FROM search_docs d JOIN papers p ON p.id = d.paper_id WHERE {where}"
        )
        with self.engine.connect() as conn:
            ids = [row[0] for row in conn.execute(sql, params)]
        return np.sort(np.asarray(ids, dtype=np.int64))

    def facet_rows(self, modified_since: datetime | None):
        """(doc_id, published) rows, (doc_id, category) rows and the newest modified_at, for
        papers modified at or after ``modified_since`` (all papers when None)."""
        base = search_docs.join(papers, papers.c.id == search_docs.c.paper_id)
        q_rows = select(search_docs.c.doc_id, papers.c.published, papers.c.modified_at).select_from(base)
        q_cats = select(search_docs.c.doc_id, paper_categories.c.category).select_from(
            base.join(paper_categories, paper_categories.c.paper_id == search_docs.c.paper_id))
        if modified_since is not None:
            q_rows = q_rows.where(papers.c.modified_at >= modified_since)
            q_cats = q_cats.where(papers.c.modified_at >= modified_since)
        with self.engine.connect() as conn:
            rows = conn.execute(q_rows).all()
            cats = conn.execute(q_cats).all()
        newest = max((r[2] for r in rows), default=modified_since)
        return [(int(r[0]), r[1]) for r in rows], [(int(d), c) for d, c in cats], newest

    def people_doc_ids(self, filters: SearchFilters) -> np.ndarray | None:
        """Sorted doc ids matching the author, listing and code filters (None when none is set)."""
        if not filters.authors and not filters.listed_only and not filters.with_code:
            return None
        result = None
        with self.engine.connect() as conn:
            for author in filters.authors:
                key = name_key(author)
                ids = [r[0] for r in conn.execute(text(
                    "SELECT DISTINCT d.doc_id FROM paper_authors a "
                    "JOIN search_docs d ON d.paper_id = a.paper_id "
                    "WHERE a.name_key = :k OR a.name_key LIKE :s ESCAPE '\\'"),
                    {"k": key, "s": "% " + like_escape(key)})]
                found = np.unique(np.asarray(ids, dtype=np.int64))
                result = found if result is None else np.intersect1d(result, found)
            if filters.listed_only:
                ids = [r[0] for r in conn.execute(text(
                    "SELECT DISTINCT d.doc_id FROM daily_listings l "
                    "JOIN search_docs d ON d.paper_id = l.paper_id"))]
                found = np.unique(np.asarray(ids, dtype=np.int64))
                result = found if result is None else np.intersect1d(result, found)
            if filters.with_code:
                ids = [r[0] for r in conn.execute(text(
                    "SELECT d.doc_id FROM papers p JOIN search_docs d ON d.paper_id = p.id "
                    "WHERE p.code_url IS NOT NULL"))]
                found = np.unique(np.asarray(ids, dtype=np.int64))
                result = found if result is None else np.intersect1d(result, found)
        return result

    def browse(self, filters: SearchFilters | None, limit: int, offset: int = 0) -> tuple[list[str], int]:
        """Newest papers passing the filters (an empty query with filters lists them)."""
        params: dict = {"lim": limit, "off": offset}
        where = self._filter_sql(filters, params)
        with self.engine.connect() as conn:
            ids = list(conn.execute(text(
                f"SELECT p.id FROM papers p WHERE {where} "
                "ORDER BY p.published DESC NULLS LAST, p.id LIMIT :lim OFFSET :off"), params).scalars())
            params.pop("lim"), params.pop("off")
            total = conn.execute(text(f"SELECT count(*) FROM papers p WHERE {where}"),
                                 params).scalar_one()
        return ids, total

    # -- keyword index feed (SQLite: paperboy.search.keywords) ------------------------------

    def keyword_rev(self) -> int:
        """The newest rev handed out (the keyword index is current when it holds this one)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT rev FROM search_rev WHERE id = 1")).scalar() or 0)

    def count_keyword_docs(self, after_rev: int) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM search_docs WHERE rev > :r"),
                                {"r": after_rev}).scalar_one()

    def keyword_docs(self, after_rev: int, limit: int) -> list[tuple]:
        """(doc_id, rev, title, abstract, published day, categories) of the papers whose rev is
        above ``after_rev``, in rev order: what the keyword index has not seen yet."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT d.doc_id, d.rev, p.title, p.abstract, p.published, p.categories "
                "FROM search_docs d JOIN papers p ON p.id = d.paper_id "
                "WHERE d.rev > :r ORDER BY d.rev LIMIT :n"), {"r": after_rev, "n": limit}).all()
        # Raw driver values (SQLite text): parsed here, far cheaper than the ORM's processors.
        return [(int(doc_id), int(rev), title or "", abstract or "",
                 date.fromisoformat(published[:10]) if published else None,
                 orjson.loads(cats) if cats else [])
                for doc_id, rev, title, abstract, published, cats in rows]

    def ensure_search_docs(self) -> int:
        """Repair: every paper has a ``search_docs`` row (with a fresh rev) and no row is
        orphaned; returns the number of documents."""
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                missing = conn.execute(text(
                    "SELECT id FROM papers WHERE id NOT IN (SELECT paper_id FROM search_docs) "
                    "ORDER BY id")).scalars().all()
                for pid in missing:
                    conn.execute(text("UPDATE search_rev SET rev = rev + 1 WHERE id = 1"))
                    conn.execute(text(
                        "INSERT INTO search_docs(paper_id, rev) "
                        "VALUES (:p, (SELECT rev FROM search_rev WHERE id = 1))"), {"p": pid})
            conn.execute(text("DELETE FROM search_docs WHERE paper_id NOT IN (SELECT id FROM papers)"))
            return conn.execute(select(func.count()).select_from(search_docs)).scalar_one()

    # -- lexical (PostgreSQL full-text search) ----------------------------------------------

    def lexical(
        self,
        terms: Sequence[str],
        phrases: Sequence[Sequence[str]] = (),
        filters: SearchFilters | None = None,
        limit: int = 100,
        doc_ids: Sequence[int] | None = None,
    ) -> list[LexicalHit]:
        """Best ``limit`` matches by ``ts_rank`` (title weighted A, abstract B), filters applied;
        with ``doc_ids``, the scores of those documents only (the ones that match)."""
        if not terms and not phrases:
            return []
        params: dict = {"lim": limit}
        where = self._filter_sql(filters, params)
        if doc_ids is not None:
            where += " AND d.doc_id = ANY(:only_ids)"
            params["only_ids"] = [int(d) for d in doc_ids]
        tsq = self._pg_tsquery(terms, phrases, params)
        sql = (
            f"SELECT d.doc_id, d.paper_id, ts_rank(d.tsv, q.q) AS score "
            f"FROM (SELECT {tsq} AS q) q, search_docs d JOIN papers p ON p.id = d.paper_id "
            f"WHERE d.tsv @@ q.q AND {where} ORDER BY score DESC, d.doc_id LIMIT :lim"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        return [LexicalHit(int(r[0]), r[1], float(r[2])) for r in rows]

    def lexical_count(self, terms: Sequence[str], phrases: Sequence[Sequence[str]] = (),
                      filters: SearchFilters | None = None) -> int:
        """How many visible papers match the words under the filters."""
        if not terms and not phrases:
            return 0
        params: dict = {}
        where = self._filter_sql(filters, params)
        tsq = self._pg_tsquery(terms, phrases, params)
        sql = (f"SELECT count(*) FROM (SELECT {tsq} AS q) q, search_docs d "
               f"JOIN papers p ON p.id = d.paper_id WHERE d.tsv @@ q.q AND {where}")
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())

    @staticmethod
    def _pg_tsquery(terms, phrases, params: dict) -> str:
        parts = []
        for i, phrase in enumerate(phrases):
            params[f"ph{i}"] = " ".join(phrase)
            parts.append(f"phraseto_tsquery('english', :ph{i})")
        ors = []
        for i, term in enumerate(terms):
            params[f"t{i}"] = term
            ors.append(f"plainto_tsquery('english', :t{i})")
        if ors:
            parts.append("(" + " || ".join(ors) + ")")
        return " && ".join(parts)

    def phrase_doc_ids(self, phrases: Sequence[Sequence[str]], cap: int = 200_000) -> np.ndarray:
        """Doc ids containing every phrase (quoted phrases restrict dense results too)."""
        params: dict = {"cap": cap}
        tsq = self._pg_tsquery([], phrases, params)
        sql = f"SELECT doc_id FROM search_docs WHERE tsv @@ ({tsq}) LIMIT :cap"
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text(sql), params)]
        return np.sort(np.asarray(ids, dtype=np.int64))

    # -- id mapping -------------------------------------------------------------------------

    def doc_ids(self, paper_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(paper_ids), 900):
                chunk = list(paper_ids[start:start + 900])
                rows = conn.execute(select(search_docs.c.paper_id, search_docs.c.doc_id)
                                    .where(search_docs.c.paper_id.in_(chunk)))
                out.update({p: int(d) for p, d in rows})
        return out

    def paper_ids(self, doc_ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        ids = [int(d) for d in doc_ids]
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                rows = conn.execute(select(search_docs.c.doc_id, search_docs.c.paper_id)
                                    .where(search_docs.c.doc_id.in_(chunk)))
                out.update({int(d): p for d, p in rows})
        return out

    def visible_ids(self, doc_ids: Sequence[int]) -> dict[int, str]:
        """doc id -> paper id for the documents that exist and are not hidden (search results
        are ids; whoever shows them reads the papers once)."""
        out: dict[int, str] = {}
        ids = [int(d) for d in doc_ids]
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 900):
                chunk = ids[start:start + 900]
                if conn.dialect.name == "sqlite":  # straight to the driver: on every search
                    rows = conn.exec_driver_sql(
                        "SELECT s.doc_id, s.paper_id FROM search_docs s JOIN papers p "
                        f"ON p.id = s.paper_id WHERE s.doc_id IN ({', '.join('?' * len(chunk))}) "
                        "AND p.hidden = 0", tuple(chunk)).cursor
                else:
                    rows = conn.execute(
                        select(search_docs.c.doc_id, search_docs.c.paper_id)
                        .join(papers, papers.c.id == search_docs.c.paper_id)
                        .where(search_docs.c.doc_id.in_(chunk), papers.c.hidden.is_(False)))
                out.update({int(d): p for d, p in rows})
        return out

    def texts(self, paper_ids: Sequence[str]) -> dict[str, str]:
        """paper id -> title and abstract (what a hit's matched words are looked up in)."""
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(paper_ids), 900):
                chunk = list(paper_ids[start:start + 900])
                rows = conn.execute(select(papers.c.id, papers.c.title, papers.c.abstract)
                                    .where(papers.c.id.in_(chunk)))
                out.update({pid: f"{title or ''}\n{abstract or ''}" for pid, title, abstract in rows})
        return out

    def doc_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(search_docs)).scalar_one()

    # -- repair -----------------------------------------------------------------------------

    def rebuild_lexical(self) -> int:
        """PostgreSQL: re-derive every tsvector from papers (repairs any drift); returns documents."""
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO search_docs(paper_id, tsv) "
                "SELECT id, paperboy_search_tsv(title, abstract) FROM papers "
                "ON CONFLICT (paper_id) DO UPDATE SET tsv = EXCLUDED.tsv"))
        return self.ensure_search_docs()

    # -- embeddings -------------------------------------------------------------------------

    def missing_embeddings(self, model: str, batch: int = 1000) -> Iterator[list[tuple[str, str, str]]]:
        """Batches of (paper_id, text, text_hash) with no up-to-date vector for ``model``."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(papers.c.id, papers.c.title, papers.c.abstract, embeddings.c.text_hash)
                    .select_from(papers.outerjoin(
                        embeddings, (embeddings.c.paper_id == papers.c.id)
                        & (embeddings.c.model == model)))
                    .where(papers.c.id > last)
                    .order_by(papers.c.id)
                    .limit(batch * 4)
                ).all()
            if not rows:
                return
            last = rows[-1][0]
            todo = []
            for pid, title, abstract, old_hash in rows:
                digest = text_hash(title or "", abstract or "")
                if old_hash != digest:
                    todo.append((pid, embed_text(title, abstract), digest))
            for start in range(0, len(todo), batch):
                yield todo[start:start + batch]

    def has_embeddings(self, model: str) -> bool:
        """Whether any vector of ``model`` is stored (one index probe)."""
        with self.engine.connect() as conn:
            return conn.execute(select(embeddings.c.seq).where(embeddings.c.model == model)
                                .limit(1)).first() is not None

    def count_missing_embeddings(self, model: str) -> int:
        with self.engine.connect() as conn:
            have = conn.execute(select(func.count()).select_from(embeddings)
                                .where(embeddings.c.model == model)).scalar_one()
            total = conn.execute(select(func.count()).select_from(papers)).scalar_one()
        return max(total - have, 0)

    def put_embeddings(self, model: str, rows: Iterable[tuple[str, str, np.ndarray]]) -> int:
        """Store (paper_id, text_hash, vector) rows, replacing older vectors (new ``seq``)."""
        rows = list(rows)
        if not rows:
            return 0
        values = [
            {"paper_id": pid, "model": model, "text_hash": digest,
             "vector": np.asarray(vec, dtype="<f4").tobytes()}
            for pid, digest, vec in rows
        ]
        pg = self._pg_vectors()
        if pg is not None:  # the same vectors go to the model's pgvector table
            mat = np.vstack([np.asarray(vec, dtype=np.float32).reshape(1, -1) for _, _, vec in rows])
            pg.ensure_table(model, mat.shape[1])
        with self.engine.begin() as conn:
            if pg is not None:
                pg.lock_shared(conn, model)
            conn.execute(delete(embeddings).where(
                (embeddings.c.model == model)
                & embeddings.c.paper_id.in_(bindparam("ids", expanding=True))),
                {"ids": [v["paper_id"] for v in values]})
            conn.execute(embeddings.insert(), values)
            if pg is not None:
                pg.write(conn, model, [v["paper_id"] for v in values], mat)
            if self.dialect == "postgresql":  # the work is done: off the queue, same commit
                self.embed_queue.done(conn, model, [v["paper_id"] for v in values])
        if pg is not None:
            pg.ensure_index(model)
        return len(values)

    def iter_vectors(self, model: str, after_seq: int = 0, batch: int = 20000
                     ) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """(doc_ids, float32 matrix, last seq) batches of stored vectors newer than ``after_seq``."""
        last = after_seq
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(embeddings.c.seq, search_docs.c.doc_id, embeddings.c.vector)
                    .select_from(embeddings.join(search_docs,
                                                 search_docs.c.paper_id == embeddings.c.paper_id))
                    .where((embeddings.c.model == model) & (embeddings.c.seq > last))
                    .order_by(embeddings.c.seq).limit(batch)
                ).all()
            if not rows:
                return
            last = int(rows[-1][0])
            ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
            mat = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), -1)
            yield ids, mat, last

    def count_vectors(self, model: str, after_seq: int = 0) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(embeddings).where(
                (embeddings.c.model == model) & (embeddings.c.seq > after_seq))).scalar_one()

    def max_seq(self, model: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(embeddings.c.seq), 0))
                                    .where(embeddings.c.model == model)).scalar_one())

    def embedding_models(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(embeddings.c.model, func.count())
                                     .group_by(embeddings.c.model)).all())

    def drop_embeddings_except(self, model: str) -> None:
        """Forget vectors of other (old) models once the current one is complete."""
        pg = self._pg_vectors()
        with self.engine.begin() as conn:
            conn.execute(delete(embeddings).where(embeddings.c.model != model))
            if pg is not None:
                pg.drop(conn, keep=model)
            if self.dialect == "postgresql":  # work queued for an old model is moot
                conn.execute(text("DELETE FROM embed_queue WHERE model <> :m"), {"m": model})

    def drop_embeddings(self, model: str | None = None) -> None:
        pg = self._pg_vectors()
        with self.engine.begin() as conn:
            stmt = delete(embeddings)
            if model is not None:
                stmt = stmt.where(embeddings.c.model == model)
            conn.execute(stmt)
            if pg is not None:
                pg.drop(conn, model=model)


def embed_text(title: str | None, abstract: str | None) -> str:
    """The text a paper is embedded as: title, then abstract."""
    title, abstract = (title or "").strip(), (abstract or "").strip()
    return f"{title}. {abstract}" if title and abstract else title or abstract
