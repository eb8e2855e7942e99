"""One upkeep keeps the keyword index current; searches never write (issue 14 case 4 and 10,
issue 17 point 3)."""

from __future__ import annotations

import os
import time

from paperboy.jobs.scheduler import index_job
from paperboy.search import lexical as lexical_module
from paperboy.search.service import SearchService
from tests.builders import make_paper


def _papers(n, start=0):
    return [make_paper(id=f"2402.{start + i:05d}", title=f"Zebra study {start + i}",
                       abstract="Stripes.") for i in range(n)]


def _aged_heartbeat(svc, seconds):
    beat = svc.lexical._heartbeat
    if beat.exists():
        old = time.time() - seconds
        os.utime(beat, (old, old))


def test_a_search_reads_what_is_committed_and_never_takes_the_writer(sqlite_store, sqlite_settings,
                                                                     monkeypatch):
    svc = SearchService(sqlite_store, sqlite_settings)
    sqlite_store.papers.upsert(_papers(3), "test")
    svc.upkeep.catch_up()
    sqlite_store.papers.upsert(_papers(2, start=3), "test")  # stored, not yet indexed

    taken = []
    monkeypatch.setattr(type(svc.lexical.index), "writer",
                        lambda *a, **k: taken.append(1) or None)
    monkeypatch.setattr(lexical_module, "LAG_CHECK_EVERY", 0.0)
    res = svc.search("zebra", mode="lexical", limit=10)
    assert res.total == 3 and taken == []  # the committed three; nothing indexed by the search
    assert "being indexed" in res.message  # the catch-up above was just now
    monkeypatch.undo()


def test_after_a_killed_import_search_does_not_claim_indexing(sqlite_store, sqlite_settings,
                                                              monkeypatch):
    """An import killed before its indexer finished: nothing indexes, and search says so."""
    monkeypatch.setattr(lexical_module, "LAG_CHECK_EVERY", 0.0)
    svc = SearchService(sqlite_store, sqlite_settings)
    listener = svc.upkeep.listener()
    listener(sqlite_store.papers.upsert(_papers(4), "test").changed_ids)  # first batch, no close
    listener.keywords.writer.close()  # the process dies: its lock goes, nothing commits more
    listener.keywords.writer = None
    sqlite_store.papers.upsert(_papers(3, start=10), "test")
    _aged_heartbeat(svc, 3600)
    note = svc.search("zebra", mode="lexical").message
    assert "nothing is indexing them" in note and "paperboy index sync" in note
    assert "being indexed" not in note

    # The server's scheduler (or `paperboy index sync`) takes the rest in; the note goes.
    assert index_job(sqlite_settings, sqlite_store, svc) == 3
    res = svc.search("zebra", mode="lexical", limit=20)
    deadline = time.monotonic() + 5
    while res.total < 7 and time.monotonic() < deadline:  # the reader follows the commit
        time.sleep(0.1)
        res = svc.search("zebra", mode="lexical", limit=20)
    assert res.total == 7 and not res.message
    assert index_job(sqlite_settings, sqlite_store, svc) == 0  # current: nothing to take


def test_submitting_and_the_scheduler_use_the_same_upkeep(sqlite_store, sqlite_settings):
    svc = SearchService(sqlite_store, sqlite_settings)
    assert svc.upkeep is svc.upkeep
    sqlite_store.papers.upsert(_papers(1, start=50), "test")
    svc.upkeep.papers_changed(["2402.00050"], embed=False)
    assert svc.lexical.index.committed_cursor() == sqlite_store.search.keyword_rev()
