"""Tune hybrid ranking on SciFact qrels/train.tsv (never on test), then report test once.

    .venv/bin/python benchmarks/tune_fusion.py [--data-dir DIR]

Grid: the keyword index's title weight (TITLE_REPEAT), fusion method (rrf, score) and alpha for
score fusion. Query vectors are computed once and reused across the grid. Prints the
train nDCG@10 of every setting, the best one, and that setting's test nDCG@10 / recall@100.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperboy.search.beir import BeirDataset, build_scratch, run_queries  # noqa: E402
from paperboy.search.embedder import Embedder  # noqa: E402
from paperboy.search import keywords  # noqa: E402
from paperboy.settings import load_settings  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


class MemoEmbedder:
    """The real embedder, remembering query vectors across grid points."""

    def __init__(self, inner):
        self.inner = inner
        self.cache = {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_one(self, text, single_thread=False):
        if text not in self.cache:
            self.cache[text] = self.inner.embed_one(text, single_thread=single_thread)
        return self.cache[text]


DEFAULT_REPEAT = keywords.TITLE_REPEAT


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "out" / "eval")
    args = parser.parse_args()
    settings = load_settings({"data_dir": args.data_dir}, environ={})
    embedder = MemoEmbedder(Embedder(cache_dir=args.data_dir / "models"))
    train = BeirDataset(SCIFACT, "train")
    test = BeirDataset(SCIFACT, "test")
    with tempfile.TemporaryDirectory() as tmp:
        svc = build_scratch(train, settings, Path(tmp), embedder, progress=True)
        results = []
        by_repeat = {}
        for repeat in (1, 2, 3, 4):  # the title's weight in the keyword index
            keywords.TITLE_REPEAT = repeat
            svc.lexical.rebuild()
            by_repeat[repeat] = run_queries(svc, train, "lexical")["ndcg@10"]
            print(f"lexical, title x{repeat}: train nDCG@10 {by_repeat[repeat]:.4f}", flush=True)
        keywords.TITLE_REPEAT = max(by_repeat, key=by_repeat.get)
        svc.lexical.rebuild()
        print(f"title x{keywords.TITLE_REPEAT} kept (the default is x{DEFAULT_REPEAT})")
        dense = run_queries(svc, train, "dense")["ndcg@10"]
        print(f"dense: train nDCG@10 {dense:.4f}")
        svc.fusion = "rrf"
        rrf = run_queries(svc, train, "hybrid")["ndcg@10"]
        print(f"rrf: train nDCG@10 {rrf:.4f}", flush=True)
        results.append((rrf, "rrf", None, None))
        svc.fusion = "score"
        for alpha, depth in itertools.product([0.25, 0.35, 0.45, 0.55, 0.65], [100]):
            svc.alpha, svc.depth = alpha, depth
            nd = run_queries(svc, train, "hybrid")["ndcg@10"]
            print(f"score alpha={alpha} depth={depth}: train nDCG@10 {nd:.4f}",
                  flush=True)
            results.append((nd, "score", None, alpha))
        best = max((r for r in results if r[1] != "lexical"), key=lambda r: r[0])
        print(f"best on train: {best}")
        svc.store.close()
    with tempfile.TemporaryDirectory() as tmp:
        svc = build_scratch(test, settings, Path(tmp), embedder, progress=True)
        if best[1] == "score":
            svc.fusion, svc.alpha = "score", best[3]
        else:
            svc.fusion = "rrf"
        for mode in ("lexical", "dense", "hybrid"):
            m = run_queries(svc, test, mode)
            print(f"TEST {mode:8} nDCG@10 {m['ndcg@10']:.4f} recall@100 {m['recall@100']:.4f}")
        svc.fusion = "rrf"
        m = run_queries(svc, test, "hybrid")
        print(f"TEST rrf      nDCG@10 {m['ndcg@10']:.4f} recall@100 {m['recall@100']:.4f}")
        svc.store.close()


if __name__ == "__main__":
    main()
