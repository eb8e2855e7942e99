"""Choose the hybrid score's form and weight on SciFact train, and the related-by-meaning cut-off.

    .venv/bin/python benchmarks/tune_hybrid.py fusion            # train grid
    .venv/bin/python benchmarks/tune_hybrid.py fusion --test 0.35  # the chosen alpha on test, once
    .venv/bin/python benchmarks/tune_hybrid.py cutoff            # relevant vs random similarities

Every query is scored against the whole corpus on both sides (BM25 from a tantivy index with
the product's analyzer, cosine from the cached MiniLM vectors), so each candidate form is a
fixed function of (query, paper) and the top 10 is the one the service returns (which reads
only as deep as needed to be sure of it). Vectors: benchmarks/out/eval (eval_similar.py and
`paperboy eval beir --data-dir benchmarks/out/eval` fill the cache).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperboy.search.beir import BeirDataset, corpus_vectors, load_qrels, ndcg_at  # noqa: E402
from paperboy.search.embedder import Embedder  # noqa: E402
from paperboy.search.keywords import KeywordDoc, KeywordIndex, KeywordQuery  # noqa: E402
from paperboy.search.query import parse_query  # noqa: E402
from paperboy.storage.search_index import embed_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out" / "eval"


def scored_queries(split: str, embedder) -> tuple[list[str], list]:
    ds = BeirDataset(SHARED / "scifact", split)
    vecs = corpus_vectors(ds, embedder, OUT / "eval-cache", progress=True)
    index = KeywordIndex(Path(tempfile.mkdtemp()))
    writer = index.writer()
    writer.add([KeywordDoc(i + 1, i + 1, d.get("title") or "", d.get("text") or "", None, [])
                for i, d in enumerate(ds.corpus)])
    writer.commit()
    writer.close()
    index.reload()
    ids = [str(d["_id"]) for d in ds.corpus]
    qrels = {q: r for q, r in ds.qrels.items() if q in ds.queries}
    qvecs = embedder.embed([ds.queries[q] for q in qrels])
    rows = []
    for (qid, rels), qv in zip(qrels.items(), qvecs):
        parsed = parse_query(ds.queries[qid])
        found, scores = index.search(KeywordQuery.from_words(parsed.terms, parsed.phrases), len(ids))
        bm25 = np.zeros(len(ids), dtype=np.float32)
        bm25[found - 1] = scores
        rows.append((rels, bm25, vecs @ qv))
    return ids, rows


def ndcg(ids, rows, fuse) -> float:
    out = []
    for rels, bm25, cos in rows:
        top = np.argsort(-fuse(bm25, cos), kind="stable")[:10]
        out.append(ndcg_at([ids[t] for t in top], rels, 10))
    return float(np.mean(out))


def by_best(bm25):
    best = bm25.max()
    return bm25 / best if best > 0 else bm25


FORMS = {
    "bm25/best + cosine": lambda a: lambda b, c: a * by_best(b) + (1 - a) * c,
    "bm25/best + cosine/best": lambda a: lambda b, c: a * by_best(b) + (1 - a) * c / c.max(),
    "(bm25/best)^2 + cosine": lambda a: lambda b, c: a * by_best(b) ** 2 + (1 - a) * c,
}


def fusion(args, embedder) -> None:
    if args.test is not None:
        ids, rows = scored_queries("test", embedder)
        print(f"TEST lexical {ndcg(ids, rows, lambda b, c: b):.4f}  dense "
              f"{ndcg(ids, rows, lambda b, c: c):.4f}  hybrid bm25/best + cosine, alpha "
              f"{args.test}: {ndcg(ids, rows, FORMS['bm25/best + cosine'](args.test)):.4f}")
        return
    ids, rows = scored_queries("train", embedder)
    print(f"train lexical {ndcg(ids, rows, lambda b, c: b):.4f}  dense {ndcg(ids, rows, lambda b, c: c):.4f}")
    for name, form in FORMS.items():
        print(name, " ".join(f"a={a}: {ndcg(ids, rows, form(a)):.4f}"
                             for a in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)), flush=True)


def cutoff(args, embedder) -> None:
    """Cosine of relevant and of random query-paper pairs (SciFact train claims; arXiv titles
    against their own abstract and against the others), and the best neighbour of nonsense."""
    rng = np.random.default_rng(0)
    ds = BeirDataset(SHARED / "scifact", "train")
    vecs = corpus_vectors(ds, embedder, OUT / "eval-cache", progress=True)
    pos = {str(d["_id"]): i for i, d in enumerate(ds.corpus)}
    qrels = {q: r for q, r in ds.qrels.items() if q in ds.queries}
    qvecs = embedder.embed([ds.queries[q] for q in qrels])
    relevant, random_ = [], []
    for (qid, rels), qv in zip(qrels.items(), qvecs):
        cos = vecs @ qv
        relevant += [cos[pos[d]] for d in rels]
        random_ += list(cos[rng.integers(0, len(vecs), 20)])
    rows = list(csv.DictReader(open(SHARED / "arxiv-math-2505" / "arxiv_data.csv", encoding="utf-8")))
    cache = OUT / "arxiv-math-vectors.npy"  # written by eval_similar.py's first run
    avecs = np.load(cache) if cache.is_file() else embedder.embed(
        [embed_text(r["title"], r["abstract"]) for r in rows], progress=True)
    pick = rng.choice(len(rows), 400, replace=False)
    tvecs = embedder.embed([rows[i]["title"] for i in pick])
    sims = tvecs @ avecs.T
    own = sims[np.arange(len(pick)), pick]
    others = np.delete(sims.reshape(-1), np.arange(len(pick)) * len(rows) + pick)
    pct = (1, 5, 10, 50, 90, 99, 99.9)
    for name, values in (("SciFact claim -> relevant abstract", relevant),
                         ("SciFact claim -> random abstract", random_),
                         ("arXiv title -> its own abstract", own),
                         ("arXiv title -> other abstracts", others)):
        values = np.asarray(values)
        print(f"{name:38} n={len(values):6}  " + "  ".join(
            f"p{p}={np.percentile(values, p):.3f}" for p in pct)
            + f"  share >= {args.at}: {np.mean(values >= args.at):.3f}")
    odd = ["zzzqqqxx", "zzzqqq", "asdfgh qwerty", "xkcd 927", "navier", "retrieval heads"]
    for text, v in zip(odd, embedder.embed(odd)):
        print(f"nonsense/short {text!r}: best neighbour SciFact {np.max(vecs @ v):.3f}, "
              f"arXiv math {np.max(avecs @ v):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fusion")
    f.add_argument("--test", type=float, help="report this alpha on the test split")
    c = sub.add_parser("cutoff")
    c.add_argument("--at", type=float, default=0.40)
    args = parser.parse_args()
    embedder = Embedder(cache_dir=OUT / "models")
    {"fusion": fusion, "cutoff": cutoff}[args.cmd](args, embedder)


if __name__ == "__main__":
    main()
