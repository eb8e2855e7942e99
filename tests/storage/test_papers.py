"""The paper repository on SQLite and PostgreSQL: upsert semantics, provenance, cursors."""

from __future__ import annotations

from datetime import date, datetime

from paperboy.storage.papers import merge_paper, name_key
from tests.builders import make_listing, make_paper


def test_new_papers_are_stored_with_ordered_authors(store):
    paper = make_paper(authors=["Zed Z", "Amy A", "Bob B"], categories=["cs.CL", "cs.LG"])
    counts = store.papers.upsert([paper], source="arxiv")
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    got = store.papers.get(paper.id)
    assert got.authors == ["Zed Z", "Amy A", "Bob B"]
    assert got.categories == ["cs.CL", "cs.LG"]
    assert got.title == paper.title
    assert got.published == datetime(2024, 10, 20, 12, 0)


def test_reimport_is_unchanged(store):
    papers = [make_paper() for _ in range(5)]
    store.papers.upsert(papers, source="arxiv")
    again = store.papers.upsert(papers, source="arxiv")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)
    assert again.changed_ids == []
    assert store.papers.count() == 5


def test_newer_version_updates_and_older_does_not(store):
    v1 = make_paper(version=1, title="Old title")
    store.papers.upsert([v1], source="arxiv")
    v2 = make_paper(id=v1.id, version=2, title="New title",
                    updated=datetime(2024, 11, 1), published=datetime(2024, 10, 20, 12, 0))
    counts = store.papers.upsert([v2], source="arxiv")
    assert counts.updated == 1 and counts.changed_ids == [v1.id]
    stale = make_paper(id=v1.id, version=1, title="Old title")
    assert store.papers.upsert([stale], source="arxiv").unchanged == 1
    got = store.papers.get(v1.id)
    assert (got.version, got.title, got.updated) == (2, "New title", datetime(2024, 11, 1))


def test_partial_record_fills_gaps_without_erasing(store):
    full = make_paper(journal_ref="Phys. Rev. D 76", doi="10.1/x")
    store.papers.upsert([full], source="arxiv")
    hf = make_paper(id=full.id, version=None, organization="Google", journal_ref=None, doi=None,
                    listing=make_listing(upvotes=12))
    counts = store.papers.upsert([hf], source="hf")
    assert counts.updated == 1
    got = store.papers.get(full.id)
    assert (got.journal_ref, got.doi, got.organization) == ("Phys. Rev. D 76", "10.1/x", "Google")
    sources = {row["source"] for row in store.papers.sources(full.id)}
    assert sources == {"arxiv", "hf"}
    [listing] = store.papers.listings(full.id)
    assert (listing["listed_on"], listing["upvotes"]) == (date(2024, 10, 25), 12)


def test_listing_upvotes_refresh_on_same_day(store):
    p = make_paper(listing=make_listing(upvotes=1))
    store.papers.upsert([p], source="hf")
    p2 = make_paper(id=p.id, listing=make_listing(upvotes=40))
    store.papers.upsert([p2], source="hf")
    [listing] = store.papers.listings(p.id)
    assert listing["upvotes"] == 40


def test_duplicate_ids_in_one_batch_are_merged(store):
    a = make_paper(version=1, title="first")
    b = make_paper(id=a.id, version=3, title="third")
    counts = store.papers.upsert([a, b], source="snapshot")
    assert counts.new == 1
    assert store.papers.get(a.id).title == "third"


def test_prefixed_ids_are_kept(store):
    p = make_paper(id="s2:31715818", version=None, categories=[], primary_category=None)
    store.papers.upsert([p], source="file")
    assert store.papers.get("s2:31715818").title == p.title


def test_state_commits_with_batch(store):
    store.papers.upsert([make_paper()], source="oai", state={"oai:cs:cursor": "tok1"})
    assert store.papers.get_state("oai:cs:cursor") == "tok1"
    store.papers.set_state("oai:cs:cursor", "tok2")
    assert store.papers.get_state("oai:cs:cursor") == "tok2"
    assert store.papers.get_state("missing") is None


def test_get_many_keeps_order_and_skips_unknown(store):
    ps = [make_paper() for _ in range(3)]
    store.papers.upsert(ps, source="arxiv")
    got = store.papers.get_many([ps[2].id, "9999.99999", ps[0].id])
    assert [p.id for p in got] == [ps[2].id, ps[0].id]


def test_stats(store):
    store.papers.upsert([make_paper(listing=make_listing()) for _ in range(3)], source="hf")
    stats = store.papers.stats()
    assert stats["papers"] == 3
    assert stats["by_source"] == {"hf": 3}
    assert stats["top_categories"]["cs.LG"] == 3
    assert stats["listing_days"] == 1


def test_name_key_folds_accents_and_case():
    assert name_key("C. Bal\u00e1zs") == "c. balazs"
    assert name_key("  Jos\u00e9   GARC\u00cdA ") == "jose garcia"


def test_merge_keeps_earliest_published():
    old = {"version": 2, "published": datetime(2024, 1, 1), "updated": datetime(2024, 3, 1),
           "title": "t"}
    new = {"version": 2, "published": datetime(2024, 2, 1), "updated": datetime(2024, 2, 1),
           "title": "t"}
    merged = merge_paper(old, new)
    assert merged["published"] == datetime(2024, 1, 1)
    assert merged["updated"] == datetime(2024, 3, 1)


def test_hydration_returns_every_stored_field_as_written(store):
    """get_many reads SQLite at driver level: each field must
    come back exactly as the ORM path returns it (dates with and without microseconds, missing
    dates, lists, unicode, the optional links)."""
    from sqlalchemy import select

    from paperboy.storage.papers import paper_from_row
    from paperboy.storage.schema import papers as papers_table

    full = make_paper(title="Über «quotes» — 'and' \"more\"", authors=["Zoë Ä", "李 雷"],
                      categories=["math.AG", "cs.LG"], primary_category="math.AG", version=3,
                      published=datetime(2024, 1, 2, 3, 4, 5, 678901), updated=datetime(2024, 5, 6),
                      comments="12 pages", journal_ref="J. X 1 (2024)", doi="10.1000/x",
                      license="http://creativecommons.org/licenses/by/4.0/",
                      abs_url="https://arxiv.org/abs/x", pdf_url="https://arxiv.org/pdf/x",
                      code_url="https://github.com/o/r", project_url="https://p.example",
                      thumbnail_url="https://t.example/x.png", organization="Lab",
                      ai_keywords=["retrieval", "heads"], ai_summary="Short.")
    bare = make_paper(id="s2:4983", published=None, updated=None,  # no arXiv month to go by authors=[], categories=[], primary_category=None,
                      version=None)
    store.papers.upsert([full, bare], source="arxiv")
    with store.engine.connect() as conn:
        orm = {row["id"]: paper_from_row(row) for row in conn.execute(select(papers_table)).mappings()}
    got = {p.id: p for p in store.papers.get_many([full.id, bare.id])}
    assert got == orm
    assert got[full.id] == full and got[bare.id] == bare
    doc_ids = store.search.doc_ids([full.id, bare.id])
    assert sorted(store.search.visible_ids(list(doc_ids.values())).values()) == sorted(orm)


def test_batches_keep_every_character_and_type(store):
    """What a batch stores comes back equal: quotes, escapes, control characters, non-ASCII;
    NUL is dropped on both databases (PostgreSQL text cannot hold it: the batch would fail); a
    repeated batch is unchanged and refreshes its provenance through the ON CONFLICT path."""
    tricky = [
        'quotes " and \\ backslash \\n not a newline',
        "tab\tnewline\ncontrol\x01\x1f del\x7f",
        "ünïcödé — «» 日本語 emoji 🧪 \u2028 line separator",
        "nul \x00 inside",
        "",
    ]
    papers = [make_paper(title=t or "untitled", abstract=t, authors=[t or "A B", "C D"],
                         comments=t or None, ai_keywords=[t], version=i, published=datetime(2024, 1, i + 1))
              for i, t in enumerate(tricky)]
    store.papers.upsert(papers, source="arxiv")
    got = {p.id: p for p in store.papers.get_many([p.id for p in papers])}
    assert [got[p.id] for p in papers[:3]] == papers[:3]
    nul = got[papers[3].id]
    assert (nul.title, nul.abstract, nul.authors[0], nul.comments, nul.ai_keywords) == (
        "nul  inside", "nul  inside", "nul  inside", "nul  inside", ["nul  inside"])
    again = store.papers.upsert(papers[:3], source="arxiv")
    assert again.unchanged == 3
    for p in papers[:3]:
        assert [s["source"] for s in store.papers.sources(p.id)] == ["arxiv"]


def test_listed_papers_without_categories_are_found_newest_first(store):
    """What the arXiv id_list fetch fills, and what pages count as "no category yet"."""
    store.papers.upsert([
        make_paper(id="2410.00001", categories=[], listing=make_listing(listed_on=date(2024, 10, 24))),
        make_paper(id="2410.00002", categories=[], listing=make_listing(listed_on=date(2024, 10, 25))),
        make_paper(id="2410.00003", categories=["cs.CL"],
                   listing=make_listing(listed_on=date(2024, 10, 25))),
        make_paper(id="s2:77", categories=[], listing=make_listing(listed_on=date(2024, 10, 25))),
        make_paper(id="2410.00004", categories=[], listing=make_listing(listed_on=date(2024, 10, 25))),
    ], source="hf")
    store.papers.upsert([make_paper(id="2410.00005", categories=[])], source="csv")  # never listed
    assert store.papers.uncategorized_listed() == ["2410.00002", "2410.00004", "2410.00001"]
    assert store.papers.uncategorized_listed(limit=1) == ["2410.00002"]
    assert store.papers.count_uncategorized_listed() == 4  # the s2: paper too: pages say so
    store.community.set_paper_hidden("2410.00004", True)
    assert store.papers.count_uncategorized_listed() == 3
