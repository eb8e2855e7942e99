"""Keyword revs on SQLite: a batch of new papers gets consecutive revs without the per-row
trigger, and every other way a paper changes still renews its rev."""

from __future__ import annotations

from sqlalchemy import text

from tests.builders import make_paper


def _revs(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(text("SELECT paper_id, rev FROM search_docs")).all())


def _counter(store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return tuple(conn.execute(text("SELECT rev, bulk FROM search_rev WHERE id = 1")).one())


def test_a_batch_of_new_papers_gets_consecutive_revs(sqlite_store):
    first = [make_paper() for _ in range(5)]
    sqlite_store.papers.upsert(first, source="t")
    revs = _revs(sqlite_store)
    assert [revs[p.id] for p in first] == [1, 2, 3, 4, 5]
    assert _counter(sqlite_store) == (5, 0)  # the trigger is back on after the batch
    later = [make_paper() for _ in range(3)]
    sqlite_store.papers.upsert(later, source="t")
    assert [_revs(sqlite_store)[p.id] for p in later] == [6, 7, 8]
    assert sqlite_store.search.keyword_rev() == 8


def test_changes_and_single_inserts_still_renew_revs(sqlite_store):
    papers = [make_paper() for _ in range(3)]
    sqlite_store.papers.upsert(papers, source="t")
    changed = make_paper(id=papers[1].id, title="A new title", version=2)
    sqlite_store.papers.upsert([changed], source="t")           # update: the update trigger
    assert _revs(sqlite_store)[papers[1].id] == 4
    with sqlite_store.engine.begin() as conn:                    # an insert outside upsert
        conn.execute(text("INSERT INTO papers (id, title, abstract, authors, categories, "
                          "ai_keywords, hidden, content_hash, created_at, modified_at) VALUES "
                          "('x:1', 't', 'a', '[]', '[]', '[]', 0, 'h', '2024-01-01', '2024-01-01')"))
    assert _revs(sqlite_store)["x:1"] == 5 and _counter(sqlite_store) == (5, 0)


def test_a_failed_batch_leaves_the_counter_and_trigger_as_they_were(sqlite_store, monkeypatch):
    import paperboy.storage.papers as papers_mod

    sqlite_store.papers.upsert([make_paper()], source="t")

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(papers_mod.PaperRepository, "_write_facets", broken)
    try:
        sqlite_store.papers.upsert([make_paper(), make_paper()], source="t")
    except RuntimeError:
        pass
    assert _counter(sqlite_store) == (1, 0) and len(_revs(sqlite_store)) == 1
