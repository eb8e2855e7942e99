"""`paperboy recommend USERNAME`: text and JSON, with explanations; unknown user exits 1."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from paperboy.storage import open_store
from tests.builders import make_paper


@pytest.fixture
def seeded(settings):
    store = open_store(settings)
    papers = []
    for day in (1, 2):
        for k in range(6):
            topic = ("graph neural message passing", "protein folding structure")[k % 2]
            papers.append(make_paper(id=f"2412.{day}{k:04d}", title=f"{topic} study {day}-{k}",
                                     abstract=f"We study {topic} in setting {k}.",
                                     published=datetime(2024, 12, day, 9 + k)))
    store.papers.upsert(papers, source="arxiv")
    uid = store.accounts.create_user("cleo", "cleo@example.org", "x").id
    store.accounts.create_user("newbie", "newbie@example.org", "x")
    for p in papers[:6:2]:  # the graph papers of day 1
        store.signals.set_signal(uid, p.id, "more")
    store.signals.follow(uid, "author", "Ada Lovelace")
    store.close()
    return papers


def test_recommend_text_and_json(paperboy, seeded):
    out = paperboy("recommend", "cleo", "--since", "2024-12-02", "--until", "2024-12-02",
                   "--limit", "3")
    assert out.exit_code == 0, out.output
    assert "papers for cleo from 2024-12-02 to 2024-12-02" in out.output
    assert "you follow author Ada Lovelace" in out.output
    out = paperboy("recommend", "cleo", "--json", "--limit", "12")
    data = json.loads(out.output)
    assert len(data) == 6  # the latest day: every paper is by the followed author
    graph_first = [d for d in data[:3]]
    assert all("graph" in d["title"] for d in graph_first)
    assert data[0]["closest_liked"][0]["id"] in {p.id for p in seeded[:6:2]}
    assert data[0]["reasons"] == ["you follow author Ada Lovelace"]


def test_recommend_errors(paperboy, seeded):
    assert paperboy("recommend", "nobody").exit_code == 1
    out = paperboy("recommend", "newbie")
    assert out.exit_code == 0 and "no signal yet" in out.output
    assert paperboy("recommend", "cleo", "--since", "yesterday").exit_code == 2
    help_text = paperboy("recommend", "--help").output
    assert "USERNAME" in help_text and "--since" in help_text and "--json" in help_text
