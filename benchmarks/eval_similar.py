"""Doc-to-doc evaluation of "similar papers" through the product's SearchService.similar.

    .venv/bin/python benchmarks/eval_similar.py [--split train|test] [--arxiv]

Judgments built from data we have (never from the test split for choices):
* SciFact: papers judged relevant to the same claim are relevant to each other (qrels/<split>);
* arXiv math 2505 (--arxiv, held out: nothing was tuned on it): papers sharing an author
  (authors with 2-29 papers in the file).
Reported in the same run, nDCG@10 over the query papers: the hybrid `similar` (what ships),
plain cosine (the paper's nearest vectors), and BM25 of the paper's distinctive words alone.
Vectors come from the embedding cache (benchmarks/out/eval/...): embedding takes minutes.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperboy.records import Paper  # noqa: E402
from paperboy.search.beir import BeirDataset, build_scratch, corpus_vectors, load_qrels, ndcg_at  # noqa: E402
from paperboy.search.embedder import Embedder  # noqa: E402
from paperboy.search.service import SearchService  # noqa: E402
from paperboy.settings import load_settings  # noqa: E402
from paperboy.storage import open_store  # noqa: E402
from paperboy.storage.search_index import embed_text, text_hash  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out" / "eval"


def scifact_judgments(split: str) -> tuple[BeirDataset, dict[str, set[str]]]:
    ds = BeirDataset(SHARED / "scifact", split)
    rel: dict[str, set[str]] = defaultdict(set)
    for docs in load_qrels(SHARED / "scifact" / "qrels" / f"{split}.tsv").values():
        for a in docs:
            rel["beir:" + a] |= {"beir:" + b for b in docs if b != a}
    return ds, {k: v for k, v in rel.items() if v}


def arxiv_service(settings, embedder, scratch: Path):
    rows = list(csv.DictReader(open(SHARED / "arxiv-math-2505" / "arxiv_data.csv", encoding="utf-8")))
    papers = [Paper(id=r["index"], title=r["title"], abstract=r["abstract"],
                    authors=eval(r["authors"])) for r in rows]  # noqa: S307 - a Python list literal
    store = open_store(replace(settings, data_dir=scratch, database_url=""))
    store.papers.upsert(papers, source="arxiv")
    cache = OUT / "arxiv-math-vectors.npy"
    if cache.is_file():
        vecs = np.load(cache)
    else:
        vecs = embedder.embed([embed_text(p.title, p.abstract) for p in papers], progress=True)
        np.save(cache, vecs)
    store.search.put_embeddings(embedder.model_id, [
        (p.id, text_hash(p.title, p.abstract), v) for p, v in zip(papers, vecs)])
    service = SearchService(store, replace(settings, data_dir=scratch, database_url=""), embedder=embedder)
    service.upkeep.catch_up()
    by_author: dict[str, set[str]] = defaultdict(set)
    for p in papers:
        for a in p.authors:
            by_author[a.strip().lower()].add(p.id)
    rel: dict[str, set[str]] = defaultdict(set)
    for ids in by_author.values():
        if 1 < len(ids) < 30:
            for pid in ids:
                rel[pid] |= ids - {pid}
    return service, dict(rel)


def evaluate(service: SearchService, rel: dict[str, set[str]], name: str) -> None:
    doc_ids = service.repo.doc_ids(list(rel))

    def paper_ids(ids: list[int]) -> list[str]:
        names = service.repo.paper_ids(ids)
        return [names[d] for d in ids]
    scores = {"similar (hybrid, shipped)": [], "cosine (nearest vectors)": [],
              "BM25 of the paper's distinctive words": []}
    started = time.perf_counter()
    for pid, relevant in rel.items():
        gains = {r: 1 for r in relevant}
        hybrid = [h.id for h in service.similar(pid, k=10)]
        doc_id = doc_ids[pid]
        ids, _ = service.vectors.search(service.vectors.vector(doc_id), 10, exclude=doc_id)
        cosine = paper_ids(ids.tolist())
        paper = service.store.papers.get(pid)
        terms = service.lexical.distinctive_words(paper.title, paper.abstract)
        bm25 = paper_ids([d for d, _ in service.lexical.search(terms, [], None, 11) if d != doc_id][:10])
        for key, ranked in zip(scores, (hybrid, cosine, bm25)):
            scores[key].append(ndcg_at(ranked, gains, 10))
    took = time.perf_counter() - started
    print(f"{name}: {len(rel)} query papers ({took / len(rel) * 1000:.1f} ms each, three rankings)")
    for key, values in scores.items():
        print(f"  {key:40} nDCG@10 {np.mean(values):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--arxiv", action="store_true", help="also arXiv math, shared authors")
    args = parser.parse_args()
    settings = load_settings({"data_dir": OUT}, environ={})
    embedder = Embedder(cache_dir=OUT / "models")
    with tempfile.TemporaryDirectory() as tmp:
        ds, rel = scifact_judgments(args.split)
        service = build_scratch(ds, settings, Path(tmp), embedder, progress=False)
        evaluate(service, rel, f"SciFact {args.split} (papers relevant to the same claim)")
        service.store.close()
    if args.arxiv:
        with tempfile.TemporaryDirectory() as tmp:
            service, rel = arxiv_service(settings, embedder, Path(tmp))
            evaluate(service, rel, "arXiv math 2505 (papers sharing an author)")
            service.store.close()


if __name__ == "__main__":
    main()
