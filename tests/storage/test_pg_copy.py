"""PostgreSQL batch writes through COPY: the full-text rows, facets and provenance they keep."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_paper

pytestmark = pytest.mark.postgres


def _tsv(store, paper_id: str) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT tsv::text FROM search_docs WHERE paper_id = :p"),
                            {"p": paper_id}).scalar_one()


def _doc_ids(store) -> dict:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT paper_id, doc_id FROM search_docs")).all())


def test_full_text_rows_follow_new_and_retitled_papers_only(pg_store):
    a, b = make_paper(title="Quantum widgets", version=1), make_paper(title="Sparse gizmos")
    pg_store.papers.upsert([a, b], source="arxiv")
    assert "quantum" in _tsv(pg_store, a.id) and "gizmo" in _tsv(pg_store, b.id)
    before = _doc_ids(pg_store)

    retitled = make_paper(id=a.id, version=2, title="Classical doohickeys")
    counts = pg_store.papers.upsert([retitled, b], source="arxiv")
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 1)
    assert "doohickey" in _tsv(pg_store, a.id) and "quantum" not in _tsv(pg_store, a.id)
    assert _doc_ids(pg_store) == before  # rows rewritten in place, none added
    # a write outside the bulk path still goes through the trigger
    with pg_store.engine.begin() as conn:
        conn.execute(text("UPDATE papers SET title = 'Hand edited' WHERE id = :p"), {"p": b.id})
    assert "hand" in _tsv(pg_store, b.id)


def test_a_changed_paper_gets_its_facets_rewritten_and_keeps_hidden(pg_store):
    p = make_paper(authors=["A One", "B Two"], categories=["cs.LG", "cs.CL"], version=1)
    pg_store.papers.upsert([p], source="arxiv")
    with pg_store.engine.begin() as conn:
        conn.execute(text("UPDATE papers SET hidden = true WHERE id = :p"), {"p": p.id})
    newer = make_paper(id=p.id, authors=["C Three"], categories=["math.CO"], version=2)
    pg_store.papers.upsert([newer], source="hf")
    with pg_store.engine.connect() as conn:
        authors = conn.execute(text("SELECT name FROM paper_authors WHERE paper_id = :p"),
                               {"p": p.id}).scalars().all()
        cats = conn.execute(text("SELECT category FROM paper_categories WHERE paper_id = :p"),
                            {"p": p.id}).scalars().all()
        hidden = conn.execute(text("SELECT hidden FROM papers WHERE id = :p"),
                              {"p": p.id}).scalar_one()
    assert (authors, cats, hidden) == (["C Three"], ["math.CO"], True)
    assert {r["source"] for r in pg_store.papers.sources(p.id)} == {"arxiv", "hf"}


def test_two_batches_in_a_row_reuse_the_staging_table(pg_store):
    first = [make_paper() for _ in range(3)]
    second = [make_paper() for _ in range(2)]
    assert pg_store.papers.upsert(first, source="arxiv").new == 3
    assert pg_store.papers.upsert(second, source="arxiv").new == 2
    assert pg_store.papers.count() == 5


def _stale_full_text(store) -> int:
    """Papers whose full-text row is missing or differs from the one the SQL function gives."""
    with store.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM papers p LEFT JOIN search_docs d ON d.paper_id = p.id "
            "WHERE d.tsv IS DISTINCT FROM paperboy_search_tsv(p.title, p.abstract)")).scalar_one()


@pytest.mark.parametrize("connections", [0, 1, 3])
def test_full_text_rows_are_the_same_however_many_connections_compute_them(
        tmp_path, pg_url, connections):
    store = open_store(load_settings({"data_dir": tmp_path / "data", "database_url": pg_url,
                                      "pg_fulltext_connections": connections}, environ={}))
    try:
        papers = [make_paper(abstract=f"Graphs and grouping {n}; l'été, naïve ümlauts")
                  for n in range(7)]
        store.papers.upsert(papers, source="arxiv")
        retitled = make_paper(id=papers[2].id, version=2, title="Retitled widgets")
        store.papers.upsert([retitled, *papers[3:]], source="arxiv")
        assert store.papers.count() == 7 and _stale_full_text(store) == 0
        assert "widget" in _tsv(store, papers[2].id)
    finally:
        store.close()


def test_a_batch_whose_full_text_fails_is_not_stored_at_all(pg_store):
    kept = make_paper()
    pg_store.papers.upsert([kept], source="arxiv")
    with pg_store.engine.begin() as conn:  # the helpers' computation now fails on the server
        conn.execute(text("ALTER FUNCTION paperboy_search_tsv(text, text) RENAME TO gone"))
    with pytest.raises(Exception, match="paperboy_search_tsv"):
        pg_store.papers.upsert([make_paper(), make_paper()], source="arxiv")
    with pg_store.engine.begin() as conn:
        conn.execute(text("ALTER FUNCTION gone(text, text) RENAME TO paperboy_search_tsv"))
    assert pg_store.papers.count() == 1  # nothing of the failed batch: papers, facets, sources
    with pg_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM paper_sources")).scalar_one() == 1
        authored = conn.execute(text("SELECT count(DISTINCT paper_id) FROM paper_authors"))
        assert authored.scalar_one() == 1
    assert _stale_full_text(pg_store) == 0
