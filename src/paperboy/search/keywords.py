"""The keyword index of the embedded default: BM25 over title + abstract, served by tantivy.

Why not SQLite FTS5 (the first version): FTS5 scores every document that matches any query
word, so a query with a few common words grew slow with the store, and it tokenized every
paper inside the ingest transaction (benchmarks/RESULTS.md, "Issue 17"). tantivy's
block-max WAND skips the documents that cannot reach the top k, and indexing happens after the
papers are committed (benchmarks/RESULTS.md, "Search speed" and "Ingest").

Staying consistent with the store: the database gives every new or changed paper a new
``search_docs.rev`` from a counter that only grows (migration 0005_keyword_revs), so revs follow
commit order. Each indexed document carries its rev, and the index's cursor is the highest rev
it holds, *read back from the index itself*: a crash between the database commit and the index
commit, or inside either, only leaves the index behind, and the next :meth:`KeywordIndex.sync`
catches up. Re-indexing a paper replaces it (delete by doc id, then add, in one commit), so a
sync that runs twice changes nothing. tantivy allows one writer at a time (a lock file, freed
when its process dies): a process that finds it taken leaves the sync to the holder.

The index directory's name carries :data:`INDEX_FORMAT`: a new analyzer or schema starts a new
directory, filled from the database on the next sync, and the old one is removed.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from paperboy.errors import PaperboyError

log = logging.getLogger(__name__)


class IndexBusy(PaperboyError):
    """Another process holds the keyword index's writer."""

    def __init__(self) -> None:
        super().__init__("the keyword index is being written by another process (an import or "
                         "the server's scheduler); try again when it has finished")

#: Bump when the schema or the analyzer changes: the index is rebuilt from the database.
INDEX_FORMAT = 2
ANALYZER = "paperboy_en"
#: The indexed text is the title this many times, then the abstract: a title word weighs more
#: within one BM25 field (tuned on SciFact train: 1, 2, 3, 4 times gave nDCG@10 0.701, 0.707,
#: 0.710, 0.708; a separate boosted title field did no better and doubles the query's postings).
TITLE_REPEAT = 3
#: Papers indexed per writer commit while catching up.
SYNC_CHUNK = 5000
_EPOCH = date(1970, 1, 1)


def _tantivy():
    import tantivy

    return tantivy


def build_analyzer():
    """Words (letters and digits), lower-cased, accents folded, Snowball English stems."""
    tv = _tantivy()
    return (tv.TextAnalyzerBuilder(tv.Tokenizer.simple())
            .filter(tv.Filter.remove_long(40))
            .filter(tv.Filter.lowercase())
            .filter(tv.Filter.ascii_fold())
            .filter(tv.Filter.stemmer("english"))
            .build())


_ANALYZER = None


def analyze(text: str) -> list[str]:
    """``text`` as the keyword index stores it (the same analyzer at index and query time)."""
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = build_analyzer()
    return _ANALYZER.analyze(text)


def categories_terms(categories: Iterable[str]) -> list[str]:
    """Each category and its archive (``cs.CL`` -> ``cs.CL``, ``cs``), so ``cat:cs`` matches."""
    out: dict[str, None] = {}
    for cat in categories:
        out[cat] = None
        if "." in cat:
            out[cat.split(".", 1)[0]] = None
    return list(out)


@dataclass
class KeywordDoc:
    doc_id: int
    rev: int
    title: str
    abstract: str
    published: date | None
    categories: list[str]


def docs_reader(repo) -> Callable[[int, int], list[KeywordDoc]]:
    """What a sync reads from: ``repo.keyword_docs`` (the store's papers by rev) as documents."""
    def fetch(after_rev: int, n: int) -> list[KeywordDoc]:
        return [KeywordDoc(*row) for row in repo.keyword_docs(after_rev, n)]
    return fetch


@dataclass
class KeywordQuery:
    """What the index matches: ranked tokens (any may match), required phrases, filters."""

    tokens: list[str]
    phrases: list[list[str]]
    since: date | None = None
    until: date | None = None
    categories: Sequence[str] = ()
    #: restrict to these doc ids (author and listing filters)
    doc_ids: Sequence[int] | None = None

    @classmethod
    def from_words(cls, terms: Sequence[str], phrases: Sequence[Sequence[str]] = (), **filters
                   ) -> "KeywordQuery":
        tokens = list(dict.fromkeys(tok for term in terms for tok in analyze(term)))
        analyzed = [[tok for word in phrase for tok in analyze(word)] for phrase in phrases]
        return cls(tokens, [p for p in analyzed if p], **filters)

    @property
    def is_empty(self) -> bool:
        return not self.tokens and not self.phrases


class KeywordIndex:
    """The tantivy index under ``directory`` (created on first use)."""

    def __init__(self, directory: Path):
        self.root = Path(directory)
        self._cursor = 0
        self._index = None
        self._schema = None
        self._lock = threading.RLock()

    # -- opening ----------------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """The highest rev the index holds (committed): the next sync starts after it."""
        self.index  # noqa: B018 - opening reads it
        return self._cursor

    @property
    def path(self) -> Path:
        return self.root / f"keywords-f{INDEX_FORMAT}"

    def _schema_def(self):
        tv = _tantivy()
        sb = tv.SchemaBuilder()
        sb.add_integer_field("doc_id", indexed=True, fast=True)
        sb.add_integer_field("rev", fast=True)
        sb.add_integer_field("day", indexed=True, fast=True)
        sb.add_text_field("body", tokenizer_name=ANALYZER, index_option="position")
        sb.add_text_field("cat", tokenizer_name="raw", index_option="basic")
        return sb.build()

    @property
    def index(self):
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._open()
        return self._index

    def _open(self) -> None:
        tv = _tantivy()
        self.root.mkdir(parents=True, exist_ok=True)
        for old in self.root.glob("keywords-f*"):
            if old != self.path and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)  # another format: rebuilt from the store
        self.path.mkdir(exist_ok=True)
        self._schema = self._schema_def()
        index = tv.Index(self._schema, path=str(self.path), reuse=True)
        index.register_tokenizer(ANALYZER, build_analyzer())
        self._index = index
        self._cursor = self._read_cursor()

    def _read_cursor(self) -> int:
        """The highest rev in the index (0 when empty): where the next sync starts."""
        return self._highest("rev")

    def _highest(self, field: str) -> int:
        searcher = self._index.searcher()
        if searcher.num_docs == 0:
            return 0
        tv = _tantivy()
        hits = searcher.search(tv.Query.all_query(), 1, count=False, order_by_field=field).hits
        return int(hits[0][0]) if hits else 0

    def committed_cursor(self) -> int:
        """The highest rev committed, as the reader sees it now (it follows commits of any
        process by itself); unlike :meth:`reload`, changes nothing."""
        self.index  # noqa: B018 - opens it
        return self._highest("rev")

    def reload(self) -> None:
        """See what other processes committed."""
        self.index.reload()
        self._cursor = self._read_cursor()

    @property
    def size(self) -> int:
        return self.index.searcher().num_docs

    # -- writing ----------------------------------------------------------------------------

    def _writer(self, threads: int, heap_mb: int):
        try:
            return self.index.writer(heap_size=heap_mb * 1_000_000, num_threads=threads)
        except ValueError as exc:  # LockBusy: another process is writing
            log.debug("keyword index busy: %s", exc)
            return None

    def _document(self, doc: KeywordDoc):
        tv = _tantivy()
        d = tv.Document()
        d.add_integer("doc_id", doc.doc_id)
        d.add_integer("rev", doc.rev)
        if doc.published is not None:
            d.add_integer("day", (doc.published - _EPOCH).days)
        d.add_text("body", "\n".join([doc.title or ""] * TITLE_REPEAT + [doc.abstract or ""]))
        for term in categories_terms(doc.categories):
            d.add_text("cat", term)
        return d

    def writer(self, threads: int = 1, heap_mb: int = 64) -> "KeywordWriter | None":
        """Take the index's writer (None when another process or thread holds it)."""
        if self._index is None:
            self.index  # noqa: B018 - opens it
        writer = self._writer(threads, heap_mb)
        if writer is None:
            return None
        self._index.reload()
        self._cursor = self._read_cursor()  # another process may have gone further
        return KeywordWriter(self, writer)

    def sync(self, fetch: Callable[[int, int], list[KeywordDoc]], limit: int | None = None,
             threads: int = 1, heap_mb: int = 64, on_chunk: Callable[[int], None] | None = None
             ) -> int | None:
        """Index the papers changed after the cursor (``fetch(after_rev, n)`` reads them in rev
        order), committing every chunk; at most ``limit``. Returns how many were indexed, or
        None when another process holds the writer."""
        with self._lock:
            w = self.writer(threads, heap_mb)
            if w is None:
                return None
            try:
                return w.catch_up(fetch, limit, commit_every=SYNC_CHUNK, on_chunk=on_chunk)
            finally:
                w.close()

    def delete(self, doc_ids: Sequence[int]) -> None:
        """Drop these documents (papers deleted from the store, e.g. the sample's)."""
        if not doc_ids:
            return
        with self._lock:
            if self._index is None:
                self._open()
            writer = self._writer(1, 32)
            if writer is None:
                raise IndexBusy()
            for doc_id in doc_ids:
                writer.delete_documents_by_term("doc_id", int(doc_id))
            writer.commit()
            writer.wait_merging_threads()
            self._index.reload()

    def clear(self) -> None:
        """Drop every document (``paperboy index rebuild`` then syncs from rev 0)."""
        with self._lock:
            if self._index is None:
                self._open()
            writer = self._writer(1, 32)
            if writer is None:
                raise IndexBusy()
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
            self._index.reload()
            self._cursor = 0

    # -- searching --------------------------------------------------------------------------

    def _text_query(self, q: KeywordQuery):
        tv = _tantivy()
        Query, Occur, schema = tv.Query, tv.Occur, self._schema
        ranked = []
        for tok in q.tokens:
            ranked.append((Occur.Should, Query.term_query(schema, "body", tok)))
        required = []
        for phrase in q.phrases:
            if len(phrase) == 1:
                required.append((Occur.Must, Query.term_query(schema, "body", phrase[0])))
            else:
                required.append((Occur.Must, Query.phrase_query(schema, "body", phrase)))
        # Phrases must match; the ranked tokens add to the score (any may match). Without
        # phrases the query is a flat disjunction of term queries, which block-max WAND serves.
        return Query.boolean_query(required + ranked)

    def _filter_parts(self, q: KeywordQuery) -> list:
        """The filters as required clauses (empty without filters)."""
        tv = _tantivy()
        Query, Occur, schema = tv.Query, tv.Occur, self._schema
        parts = []
        if q.since or q.until:
            lo = (q.since - _EPOCH).days if q.since else None
            hi = (q.until - _EPOCH).days if q.until else None
            parts.append((Occur.Must, Query.range_query(schema, "day", tv.FieldType.Integer, lo, hi)))
        if q.categories:
            parts.append((Occur.Must, Query.term_set_query(schema, "cat", list(q.categories))))
        if q.doc_ids is not None:
            parts.append((Occur.Must, Query.term_set_query(
                schema, "doc_id", [int(d) for d in q.doc_ids])))
        return parts

    def _query(self, q: KeywordQuery):
        tv = _tantivy()
        text = self._text_query(q)
        parts = self._filter_parts(q)
        if not parts:
            return text
        flt = tv.Query.const_score_query(tv.Query.boolean_query(parts), 0.0)
        return tv.Query.boolean_query([(tv.Occur.Must, text), (tv.Occur.Must, flt)])

    def doc_freq(self, token: str) -> int:
        """How many documents hold this (analyzed) token."""
        return int(self.index.searcher().doc_freq("body", token))

    def count(self, q: KeywordQuery) -> int:
        """How many documents match the query (words, phrases and filters)."""
        if q.is_empty or (q.doc_ids is not None and len(q.doc_ids) == 0):
            return 0
        searcher = self.index.searcher()
        parts = self._filter_parts(q)
        if not parts:
            return int(searcher.search(self._text_query(q), 1, count=True).count)
        # With filters: one flat intersection, and no BM25 (ordering by a fast field turns
        # scoring off), which counts faster (benchmarks/RESULTS.md,
        # "Issue 16: the filtered count at 1M").
        tv = _tantivy()
        query = tv.Query.boolean_query([(tv.Occur.Must, self._text_query(q))] + parts)
        return int(searcher.search(query, 1, count=True, order_by_field="doc_id").count)

    def search(self, q: KeywordQuery, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(doc ids, BM25 scores) of the best ``limit`` matches, best first."""
        if q.is_empty or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if q.doc_ids is not None and len(q.doc_ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        index = self.index
        searcher = index.searcher()
        hits = searcher.search(self._query(q), limit, count=False).hits
        if not hits:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = searcher.fast_field_values("doc_id", [addr for _, addr in hits])
        return (np.asarray(ids, dtype=np.int64),
                np.asarray([score for score, _ in hits], dtype=np.float32))


class KeywordWriter:
    """The writer of one process (it holds tantivy's lock while open).

    Documents are added as they come and indexed by tantivy's own thread, so an import's
    parsing and database work overlap with tokenizing; a commit publishes them. What is not
    committed when a process dies is simply indexed again by the next sync (cursor = the
    highest committed rev).
    """

    def __init__(self, owner: KeywordIndex, writer):
        self.owner = owner
        self._writer = writer
        self.cursor = owner._cursor
        self.uncommitted = 0
        # Doc ids only grow (AUTOINCREMENT, never reused): one above every id the index has
        # seen is a new paper, with no older document to delete. (Each delete is looked up in
        # every segment at commit, a cost worth avoiding for every paper of an import.)
        self.max_doc_id = owner._highest("doc_id")

    def add(self, docs: Sequence[KeywordDoc]) -> None:
        w = self._writer
        for doc in docs:
            if doc.doc_id <= self.max_doc_id:
                w.delete_documents_by_term("doc_id", doc.doc_id)
            else:
                self.max_doc_id = doc.doc_id
            w.add_document(self.owner._document(doc))
        if docs:
            self.cursor = docs[-1].rev
            self.uncommitted += len(docs)

    def catch_up(self, fetch: Callable[[int, int], list[KeywordDoc]], limit: int | None = None,
                 commit_every: int | None = None, on_chunk: Callable[[int], None] | None = None
                 ) -> int:
        """Add every document changed after the cursor (at most ``limit``)."""
        done = 0
        while limit is None or done < limit:
            n = SYNC_CHUNK if limit is None else min(SYNC_CHUNK, limit - done)
            docs = fetch(self.cursor, n)
            self.add(docs)
            done += len(docs)
            if commit_every and self.uncommitted >= commit_every:
                self.commit()
            if on_chunk is not None and docs:
                on_chunk(len(docs))
            if len(docs) < n:
                break
        return done

    def commit(self) -> None:
        if self.uncommitted:
            self._writer.commit()
            self.uncommitted = 0
        self.owner._cursor = self.cursor

    def close(self) -> None:
        """Commit, let merges finish, release the lock, and show the result to searches."""
        if self._writer is None:
            return
        try:
            self.commit()
            self._writer.wait_merging_threads()
        finally:
            self._writer = None
            self.owner.index.reload()
