"""The ranking service on a small store: a reader who likes graph papers gets graph papers
first, explained by a real liked paper and its words; follows always show, excludes remove,
models are cached until the signals change, and the digest's batch agrees with one reader."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from paperboy.recommend.service import RecommendService
from paperboy.search.query import parse_query
from paperboy.settings import load_settings
from paperboy.storage.feeds import Period
from tests.builders import make_paper

TOPICS = {
    "graph": ("graph neural networks message passing over nodes and edges",
              "We propose a graph neural network with message passing on node and edge features."),
    "vision": ("image segmentation with convolutional backbones",
               "We segment images with a convolutional backbone and pixel decoders."),
    "speech": ("speech recognition with acoustic transformers",
               "An acoustic model transcribes speech audio into text with transformers."),
}


def _papers():
    out = []
    n = 0
    for day in (1, 2, 3, 4):
        for topic, (title, abstract) in TOPICS.items():
            for k in range(4):
                n += 1
                out.append(make_paper(
                    id=f"2412.{n:05d}", title=f"{title} {k} day {day}",
                    abstract=f"{abstract} Variant {k}.",
                    authors=[f"{topic.title()} Person {k}", "Shared Author"],
                    categories=["cs.LG"] if topic == "graph" else ["cs.CV"] if topic == "vision" else ["eess.AS"],
                    published=datetime(2024, 12, day, 8 + k)))
    return out


@pytest.fixture
def world(store, tmp_path):
    papers = _papers()
    store.papers.upsert(papers, source="arxiv")
    settings = load_settings({"data_dir": tmp_path / "svc"}, environ={})
    uid = store.accounts.create_user("gina", "gina@example.org", "x").id
    other = store.accounts.create_user("otto", "otto@example.org", "x").id
    return store, RecommendService(store, settings, parse_query), uid, other, papers


def _graph(papers, day):
    return [p.id for p in papers if "graph" in p.title and f"day {day}" in p.title]


def test_liked_topic_ranks_first_and_explains_itself(world):
    store, svc, uid, _, papers = world
    for pid in _graph(papers, 1)[:3]:
        store.community.set_upvote(uid, pid, on=True)
    store.signals.set_signal(uid, [p.id for p in papers if "speech" in p.title][0], "less")
    page = svc.recommend(uid, Period.day(date(2024, 12, 4)), limit=4)
    assert page.has_signals and page.total > 0
    top_ids = [r.paper_id for r in page.items]
    assert set(top_ids) == set(_graph(papers, 4))          # the four graph papers of the day
    first = page.items[0]
    liked = {pid for pid in _graph(papers, 1)[:3]}
    assert first.liked and first.liked[0][0] in liked      # a real liked paper, with its title
    assert first.liked[0][1] == store.papers.get(first.liked[0][0]).title
    assert any(w in ("graph", "message", "passing", "neural", "node", "edge", "nodes", "edges")
               or " " in w for w, _ in first.words)


def test_follow_always_shows_and_exclude_removes(world):
    store, svc, uid, _, papers = world
    for pid in _graph(papers, 1):
        store.signals.set_signal(uid, pid, "more")
    speech_author = "Speech Person 2"
    store.signals.follow(uid, "author", speech_author)
    store.signals.add_rule(uid, "exclude", "graph neural author:\"Graph Person 0\"")
    page = svc.recommend(uid, Period.day(date(2024, 12, 3)), limit=50)
    ids = [r.paper_id for r in page.items]
    followed = [p.id for p in papers if speech_author in p.authors and "day 3" in p.title]
    excluded = [p.id for p in papers if "Graph Person 0" in p.authors and "day 3" in p.title]
    assert followed[0] == ids[0]
    assert page.items[0].reasons == [f"you follow author {speech_author}"]
    assert excluded and excluded[0] not in ids
    # a changed signal refits and ranks again, reusing the period's follow/rule hits
    store.signals.set_signal(uid, _graph(papers, 1)[-1], None)
    again = [r.paper_id for r in svc.recommend(uid, Period.day(date(2024, 12, 3)), limit=50).items]
    assert again[0] == followed[0] and excluded[0] not in again
    # a new rule is a new set of hits
    store.signals.add_rule(uid, "exclude", f"author:\"{speech_author}\"")
    after = [r.paper_id for r in svc.recommend(uid, Period.day(date(2024, 12, 3)), limit=50).items]
    assert followed[0] not in after


def test_follows_alone_give_a_feed_and_no_signal_gives_none(world):
    store, svc, uid, other, papers = world
    assert not svc.recommend(other, Period.day(date(2024, 12, 2))).has_signals
    store.signals.follow(other, "category", "eess")
    page = svc.recommend(other, Period.day(date(2024, 12, 2)), limit=50)
    assert page.total == 4 and all("speech" in store.papers.get(r.paper_id).title
                                   for r in page.items)


def test_model_cached_until_signals_change(world):
    store, svc, uid, _, papers = world
    store.signals.set_signal(uid, _graph(papers, 1)[0], "more")
    model, version = svc.model(uid)
    assert store.signals.cached_model(uid)[0] == version
    again, same = svc.model(uid)
    assert same == version
    store.signals.set_signal(uid, _graph(papers, 2)[0], "more")
    _, changed = svc.model(uid)
    assert changed != version and store.signals.cached_model(uid)[0] == changed


def test_batch_agrees_with_one_reader(world):
    store, svc, uid, other, papers = world
    for pid in _graph(papers, 1):
        store.signals.set_signal(uid, pid, "more")
    for pid in [p.id for p in papers if "vision" in p.title][:3]:
        store.signals.set_signal(other, pid, "more")
    period = Period.day(date(2024, 12, 4))
    batch = svc.recommend_many([uid, other], period, limit=4)
    assert [r.paper_id for r in batch[uid]] == [r.paper_id for r in svc.recommend(uid, period, limit=4).items]
    assert all("vision" in store.papers.get(r.paper_id).title or "image" in store.papers.get(r.paper_id).title
               for r in batch[other])
