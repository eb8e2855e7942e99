"""`paperboy eval beir`: metrics and the end-to-end evaluation on a tiny BEIR dataset."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from paperboy.cli.main import cli
from paperboy.search.beir import evaluate_beir, ndcg_at, recall_at
from tests.search.conftest import CORPUS


def test_metrics_by_hand():
    rels = {"a": 1, "b": 2}
    assert ndcg_at(["b", "a", "x"], rels) == pytest.approx(1.0)
    # a at rank 1 (gain 1), b at rank 3 (gain 2) against ideal b, a
    want = (1 + 2 / math.log2(4)) / (2 + 1 / math.log2(3))
    assert ndcg_at(["a", "x", "b"], rels) == pytest.approx(want)
    assert ndcg_at(["x"], rels) == 0.0
    assert recall_at(["a", "x"], rels) == 0.5


@pytest.fixture
def tiny_beir(tmp_path):
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    with open(root / "corpus.jsonl", "w") as fh:
        for paper in CORPUS:
            fh.write(json.dumps({"_id": paper["id"], "title": paper["title"], "text": paper["abstract"]}) + "\n")
    queries = {"q1": "residual shortcut connections for deep image networks",
               "q2": "low-rank adapters for fine-tuning large language models",
               "q3": "variational inference with latent variables"}
    with open(root / "queries.jsonl", "w") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\t1512.03385\t1\nq2\t2106.09685\t1\nq3\t1312.6114\t1\n")
    return root


def test_evaluate_tiny_dataset(tiny_beir, sqlite_settings, embedder):
    report = evaluate_beir(tiny_beir, ["lexical", "dense", "hybrid"], "test", sqlite_settings,
                           embedder=embedder)
    assert report["documents"] == len(CORPUS) and report["queries"] == 3
    for mode in ("lexical", "dense", "hybrid"):
        assert report["modes"][mode]["ndcg@10"] == pytest.approx(1.0)
        assert report["modes"][mode]["recall@100"] == 1.0
    # The corpus vectors are cached for the next run.
    assert list((sqlite_settings.data_dir / "eval-cache").glob("tiny-*.npy"))


def test_eval_cli_and_bad_directory(tiny_beir, tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "-q", "eval", "beir",
                                      str(tiny_beir), "--mode", "lexical"])
    assert result.exit_code == 0, result.output
    assert "lexical  nDCG@10 1.0000  recall@100 1.0000" in result.output
    bad = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "eval", "beir", str(tmp_path)])
    assert bad.exit_code == 2 and "is not a BEIR dataset: no corpus.jsonl" in bad.output
