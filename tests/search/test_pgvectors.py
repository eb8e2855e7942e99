"""The pgvector index (PostgreSQL): exact answers, HNSW plans, filters, updates, model changes,
consistency with the embeddings table and the SQLite fallback."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from paperboy.search.pgvectors import PgVectorIndex, vector_index
from paperboy.search.vectors import VectorIndex
from paperboy.storage.pgvector import table_name
from paperboy.storage.search_index import text_hash
from tests.builders import make_paper

DIM = 32

pytestmark = pytest.mark.postgres


def _fill(store, n: int, model: str = "m", seed: int = 7):
    papers = [make_paper() for _ in range(n)]
    store.papers.upsert(papers, source="arxiv")
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.search.put_embeddings(model, [(p.id, text_hash(p.title, p.abstract), v)
                                        for p, v in zip(papers, vecs)])
    doc_ids = store.search.doc_ids([p.id for p in papers])
    return papers, np.array([doc_ids[p.id] for p in papers]), vecs


@pytest.fixture
def filled(pg_store):
    papers, ids, vecs = _fill(pg_store, 300)
    return pg_store, ids, vecs


def test_migration_registers_pgvector(pg_store):
    assert pg_store.search.pgvector.available()
    index = vector_index(pg_store.search, "m")
    assert isinstance(index, PgVectorIndex) and index.refresh() == 0 and index.size == 0
    ids, sims = index.search(np.ones(DIM, dtype=np.float32), 5)
    assert len(ids) == 0 and len(sims) == 0


def test_sqlite_keeps_the_in_process_index(sqlite_store, tmp_path):
    assert not sqlite_store.search.pgvector.available()
    assert isinstance(vector_index(sqlite_store.search, "m", tmp_path), VectorIndex)


@pytest.mark.parametrize("exact_below", [10_000, 0])  # exact scan, and HNSW
def test_nearest_equal_the_exact_answer(filled, exact_below):
    store, ids, vecs = filled
    index = PgVectorIndex(store.search, "m", exact_below=exact_below)
    assert index.refresh() == 300 and index.size == 300
    for q in range(10):
        got_ids, sims = index.search(vecs[q], 10)
        scores = vecs @ vecs[q]
        brute = np.argsort(-scores, kind="stable")[:10]
        assert got_ids.tolist() == ids[brute].tolist()
        assert sims.dtype == np.float32
        assert np.allclose(sims, scores[brute], atol=1e-5)  # cosine similarity, as in-process
    assert index.search(vecs[0], 1)[1][0] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("exact_below", [10_000, 0])
def test_filters_and_exclude(filled, exact_below, monkeypatch):
    store, ids, vecs = filled
    index = PgVectorIndex(store.search, "m", exact_below=exact_below)
    index.refresh()
    allowed = np.sort(ids[100:200])
    got, sims = index.search(vecs[5], 5, allowed=allowed, exclude=int(ids[150]))
    inside = np.arange(100, 200)
    inside = inside[inside != 150]
    scores = vecs[inside] @ vecs[5]
    expect = ids[inside[np.argsort(-scores, kind="stable")[:5]]]
    assert got.tolist() == expect.tolist()
    got, _ = index.search(vecs[3], 5, exclude=int(ids[3]))
    assert int(ids[3]) not in got.tolist() and len(got) == 5
    assert len(index.search(vecs[3], 5, allowed=np.zeros(0, dtype=np.int64))[0]) == 0
    # A large filter: HNSW over-fetch, post-filtered, falling back to exact when too few pass.
    monkeypatch.setattr("paperboy.search.pgvectors.EXACT_FILTER_MAX", 20)
    monkeypatch.setattr("paperboy.search.pgvectors.EXACT_PER_FETCH", 0)
    broad = np.sort(ids[::2])  # half the collection
    got, _ = index.search(vecs[1], 10, allowed=broad)
    assert len(got) == 10 and set(got.tolist()) <= set(broad.tolist())
    for n in (60, 25):  # 20 %: over-fetch (maybe the exact fallback); 8 %: exact
        got, _ = index.search(vecs[250], 10, allowed=np.sort(ids[:n]), exclude=int(ids[0]))
        scores = vecs[1:n] @ vecs[250]
        assert got.tolist() == ids[1:n][np.argsort(-scores, kind="stable")[:10]].tolist()


def test_updates_replace_vectors_and_deletes_cascade(filled):
    store, ids, vecs = filled
    index = PgVectorIndex(store.search, "m")
    index.refresh()
    pid = store.search.visible_ids([int(ids[0])])[int(ids[0])]
    store.search.put_embeddings("m", [(pid, "new", vecs[1])])
    assert index.refresh() == 0 and index.size == 300
    assert np.allclose(index.vector(int(ids[0])), vecs[1])
    assert set(index.vectors([int(ids[0]), int(ids[2]), 10**9])) == {int(ids[0]), int(ids[2])}
    assert index.vector(10**9) is None
    # New papers are visible to every process at once: no file, no per-process copy.
    other = PgVectorIndex(store.search, "m")
    more = make_paper()
    store.papers.upsert([more], source="arxiv")
    store.search.put_embeddings("m", [(more.id, "h", -vecs[7])])
    assert index.refresh() == 1 and other.refresh() == 301
    new_id = store.search.doc_ids([more.id])[more.id]
    assert other.search(-vecs[7], 1)[0].tolist() == [new_id]
    with store.engine.begin() as conn:  # deleting the paper deletes its vector
        conn.execute(text("DELETE FROM papers WHERE id = :p"), {"p": more.id})
    assert store.search.pgvector.count("m") == 300


def test_hnsw_index_is_used(pg_store, monkeypatch):
    store = pg_store
    monkeypatch.setattr("paperboy.storage.pgvector.HNSW_MIN_ROWS", 1500)
    _fill(store, 1000, seed=3)
    name = table_name("m")
    with store.engine.connect() as conn:  # small: no graph yet (queries scan exactly)
        assert conn.execute(text("SELECT to_regclass(:i)"), {"i": name + "_hnsw"}).scalar() is None
    papers, ids, vecs = _fill(store, 1000)  # past the threshold: the graph is bulk-built
    index = PgVectorIndex(store.search, "m", exact_below=0)
    assert index.refresh() == 2000
    with store.engine.connect() as conn:
        indexes = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"),
                               {"t": name}).scalars().all()
    assert any("USING hnsw (vec vector_cosine_ops)" in d for d in indexes)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE " + name))
    plan = store.search.pgvector.explain("m", vecs[0], 10)
    assert f"Index Scan using {name}_hnsw" in plan, plan
    assert "hnsw" not in store.search.pgvector.explain("m", vecs[0], 10, exact=True)
    hits = sum(int(index.search(vecs[q], 1)[0][0] == ids[q]) for q in range(20))
    assert hits >= 19


def test_model_change_and_drops(filled):
    store, ids, vecs = filled
    rng = np.random.default_rng(1)
    other = rng.normal(size=(300, 16)).astype(np.float32)
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    pids = store.search.paper_ids(ids.tolist())
    store.search.put_embeddings("m2", [(pids[int(d)], "h", v) for d, v in zip(ids, other)])
    new = PgVectorIndex(store.search, "m2")
    assert new.refresh() == 300
    assert new.search(other[4], 1)[0].tolist() == [int(ids[4])]
    assert store.search.pgvector.table("m2")[1] == 16
    with pytest.raises(ValueError, match="dimension"):
        store.search.put_embeddings("m2", [(pids[int(ids[0])], "h", vecs[0])])
    store.search.drop_embeddings_except("m2")
    assert store.search.pgvector.table("m") is None and store.search.pgvector.count("m") == 0
    old = PgVectorIndex(store.search, "m")
    assert old.refresh() == 0 and old.size == 0
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass(:t)"), {"t": table_name("m")}).scalar() is None
    store.search.drop_embeddings()
    assert new.refresh() == 0 and store.search.pgvector.count("m2") == 0


def test_vectors_stored_before_the_table_are_copied_and_rebuild_repairs(filled):
    store, ids, vecs = filled
    name = table_name("m")
    with store.engine.begin() as conn:  # as after upgrading a database without pgvector
        conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("DELETE FROM vector_tables"))
    store.search.pgvector._tables.clear()
    index = PgVectorIndex(store.search, "m")
    assert index.refresh() == 300
    assert index.search(vecs[9], 1)[0].tolist() == [int(ids[9])]
    with store.engine.begin() as conn:  # drift: a vector lost from the table
        conn.execute(text(f"DELETE FROM {name} WHERE doc_id = :d"), {"d": int(ids[9])})
    index.clear()
    assert index.refresh() == 300 and index.size == 300
    assert index.search(vecs[9], 1)[0].tolist() == [int(ids[9])]
