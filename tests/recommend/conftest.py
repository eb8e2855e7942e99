"""Recommend fixtures: 58 real arXiv records of four fields (tests/fixtures/recommend/SOURCE.txt),
embedded once per session with the project's embedder, and the vocabulary fitted on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperboy.recommend import Item, Vocabulary

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "recommend" / "arxiv_records.jsonl"


def field_of(record: dict) -> str:
    return record["categories"].split()[0].split(".")[0]


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def items(records, tmp_path_factory) -> list[Item]:
    from paperboy.search.embedder import Embedder
    from paperboy.storage.search_index import embed_text

    embedder = Embedder(cache_dir=tmp_path_factory.mktemp("models"), batch_size=16)
    vecs = embedder.embed([embed_text(r["title"], r["abstract"]) for r in records])
    return [Item(r["id"], " ".join(f"{r['title']} {r['abstract']}".split()), v)
            for r, v in zip(records, vecs)]


@pytest.fixture(scope="session")
def vocab(items) -> Vocabulary:
    return Vocabulary.fit([it.text for it in items], [it.vector for it in items])


@pytest.fixture(scope="session")
def fields(records) -> dict[str, str]:
    """paper id -> primary archive (astro-ph, hep-ph, cond-mat, math)."""
    return {r["id"]: field_of(r) for r in records}
