"""Personal ranking benchmarks for issue 13 (run by hand; figures go to benchmarks/RESULTS.md,
section "Issue 13 — personal ranking").

    nice .venv/bin/python benchmarks/bench_recommend.py embed      # vectors of the records, cached
    nice .venv/bin/python benchmarks/bench_recommend.py quality    # p@10 / nDCG@10 per model
    nice .venv/bin/python benchmarks/bench_recommend.py speed      # refit and batch-rank timings

Data: the real records of ../shared/data/arxiv-math-2505 (3,397 May-2025 math papers) and
../shared/data/arxiv-kaggle-sample (200 papers of 2007, every field), embedded with the project's
own embedder (all-MiniLM-L6-v2 on onnxruntime); vectors are cached under benchmarks/out/.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import sys
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from paperboy.recommend import NEGATIVES

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MATH = DATA / "arxiv-math-2505" / "arxiv_data.csv"
KAGGLE = DATA / "arxiv-kaggle-sample" / "arxiv-metadata-oai-snapshot.sample.jsonl"
OUT = ROOT / "benchmarks" / "out"


@dataclass
class Record:
    paper_id: str
    title: str
    abstract: str
    categories: list[str]
    authors: list[str]

    @property
    def text(self) -> str:
        return f"{self.title} {self.abstract}"


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def load_math() -> list[Record]:
    with open(MATH, encoding="utf-8", newline="") as fh:
        return [Record(row["index"], _clean(row["title"]), _clean(row["abstract"]),
                       list(ast.literal_eval(row["tags"])), list(ast.literal_eval(row["authors"])))
                for row in csv.DictReader(fh)]


def load_kaggle() -> list[Record]:
    out = []
    with open(KAGGLE, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append(Record(row["id"], _clean(row["title"]), _clean(row["abstract"]),
                              row["categories"].split(),
                              [a.strip() for a in row["authors"].split(",") if a.strip()]))
    return out


def vectors_for(name: str, records: list[Record], embedder=None) -> np.ndarray:
    """The records' MiniLM vectors, embedded once and cached in benchmarks/out/."""
    path = OUT / f"reco_vectors_{name}.npy"
    ids_path = OUT / f"reco_vectors_{name}.ids.json"
    ids = [r.paper_id for r in records]
    if path.is_file() and ids_path.is_file() and json.loads(ids_path.read_text()) == ids:
        return np.load(path)
    from paperboy.search.embedder import Embedder
    from paperboy.storage.search_index import embed_text

    embedder = embedder or Embedder(threads=2)
    started = time.perf_counter()
    vecs = embedder.embed([embed_text(r.title, r.abstract) for r in records], progress=True,
                          desc=name)
    print(f"{name}: {len(records)} abstracts in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs.astype(np.float32))
    ids_path.write_text(json.dumps(ids))
    return vecs


def cmd_embed(args) -> None:
    from paperboy.search.embedder import Embedder

    embedder = Embedder(threads=2)
    vectors_for("kaggle", load_kaggle(), embedder)
    vectors_for("math", load_math(), embedder)


# -- offline evaluation -------------------------------------------------------------------------
#
# Readers are simulated from the records' arXiv categories. A reader's interest is one category
# (any of the paper's tags, cross-lists included) or the union of two; the papers of that
# interest are relevant. The records are ordered by arXiv id (submission order): the first 60 %
# are the history a reader liked papers from, the rest is cut into "days" of DAY papers, each
# ranked for every reader (its relevant papers to find among the day's others). A reader likes
# 1, 5 or 20 history papers of the interest; the app's sampled negatives are NEG random history
# papers (unlabelled, as the app's same-day sample is). Interests are split into train and test
# groups (alternately by frequency): hyper-parameters are chosen on train readers only; figures
# are test readers'. The Kaggle sample (200 papers of 2007, all fields, interests = primary
# archive) is a second, test-only check on another domain with a tiny vocabulary corpus.

DAY = 300
NEG = NEGATIVES
SIZES = (1, 5, 20)
MIN_INTEREST = 30


@dataclass
class Reader:
    name: str
    cats: frozenset
    liked: list
    negatives: list


@dataclass
class Split:
    name: str
    vocab: object
    readers: list          # Reader
    days: list             # list of (items, records)
    history: list = ()     # Item: every paper before the days


def _relevant(records, cats) -> np.ndarray:
    return np.array([bool(cats & set(r.categories)) for r in records])


def build_split(name, records, vectors, interests, sizes, seeds, history_share=0.6, day=DAY,
                pairs=0, neg=NEG, primary_only=False):
    from paperboy.recommend import Item, Vocabulary

    order = sorted(range(len(records)), key=lambda i: records[i].paper_id)
    records = [records[i] for i in order]
    vectors = vectors[order]
    if primary_only:
        records = [Record(r.paper_id, r.title, r.abstract, [r.categories[0].split(".")[0]],
                          r.authors) for r in records]
    items = [Item(r.paper_id, r.text, v) for r, v in zip(records, vectors)]
    cut = int(len(items) * history_share)
    hist, hist_rec = items[:cut], records[:cut]
    vocab = Vocabulary.fit([it.text for it in hist], vectors[:cut])
    days = [(items[s:s + day], records[s:s + day]) for s in range(cut, len(items), day)]
    rng = np.random.default_rng(7)
    groups = [frozenset([c]) for c in interests]
    pool = list(interests)
    for _ in range(pairs):
        a, b = rng.choice(len(pool), 2, replace=False)
        groups.append(frozenset([pool[a], pool[b]]))
    readers = []
    for cats in groups:
        rel = np.flatnonzero(_relevant(hist_rec, cats))
        for size in sizes:
            if len(rel) < size + 1:
                continue
            for seed in seeds:
                r = np.random.default_rng(zlib.crc32(f"{sorted(cats)}|{size}|{seed}".encode()))
                liked = [hist[i] for i in r.choice(rel, size, replace=False)]
                liked_ids = {it.paper_id for it in liked}
                others = [i for i in r.choice(len(hist), min(len(hist), neg + size),
                                              replace=False) if hist[i].paper_id not in liked_ids]
                readers.append(Reader(f"{'+'.join(sorted(cats))}/{size}/{seed}", cats, liked,
                                      [hist[i] for i in others[:neg]]))
    return Split(name, vocab, readers, days, hist)


def _dcg(hits) -> float:
    return float(np.sum(hits / np.log2(np.arange(2, len(hits) + 2))))


def day_metrics(scores, relevant, k=10):
    order = np.argsort(-scores, kind="stable")[:k]
    hits = relevant[order].astype(float)
    ideal = _dcg(np.ones(min(k, int(relevant.sum()))))
    return hits.mean() if len(hits) else 0.0, _dcg(hits) / ideal if ideal else 0.0


def evaluate(split: Split, params, all_negatives=False) -> np.ndarray:
    """Per reader: mean over days with a relevant paper of (p@10, nDCG@10), shape (readers, 2).
    ``params=None`` ranks at random (seeded). ``all_negatives``: every history paper the reader
    did not like is a negative (arxiv-sanity-lite trains its SVM against the whole database)."""
    from paperboy.recommend import fit_reader, rank_many

    models = None
    if params is not None:
        models = [fit_reader(r.liked, split.history if all_negatives else r.negatives,
                             split.vocab, params) for r in split.readers]
    out = np.zeros((len(split.readers), 2))
    counts = np.zeros(len(split.readers))
    rng = np.random.default_rng(0)
    for items, recs in split.days:
        scores = (rank_many(models, items, split.vocab) if models is not None
                  else rng.random((len(split.readers), len(items))))
        for i, reader in enumerate(split.readers):
            rel = _relevant(recs, reader.cats)
            if not rel.any():
                continue
            out[i] += day_metrics(scores[i], rel)
            counts[i] += 1
    keep = counts > 0
    out[keep] /= counts[keep, None]
    return out[keep]


def paired_ci(a, b, reps=2000, seed=0):
    """95 % bootstrap interval (over readers) of mean(a - b)."""
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), (reps, len(d)))].mean(axis=1)
    return float(d.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def math_interests():
    from collections import Counter

    counts = Counter(c for r in load_math() for c in r.categories)
    common = [c for c, n in counts.most_common() if n >= MIN_INTEREST]
    return common[0::2], common[1::2]  # alternately: both groups get big and small interests


def cmd_quality(args) -> None:
    from paperboy.recommend import BASELINE_PARAMS, DEFAULT_PARAMS, ModelParams

    started = time.perf_counter()
    math_rec = load_math()
    math_vec = vectors_for("math", math_rec)
    train_cats, test_cats = math_interests()
    seeds = range(args.seeds)
    train = build_split("train", math_rec, math_vec, train_cats, SIZES, seeds, pairs=8)
    test = build_split("test", math_rec, math_vec, test_cats, SIZES, seeds, pairs=8)
    kag_rec = load_kaggle()
    kag_vec = vectors_for("kaggle", kag_rec)
    kaggle = build_split("kaggle", kag_rec, kag_vec,
                         ["math", "cond-mat", "physics", "astro-ph", "hep-ph", "hep-th"],
                         (1, 3, 5), seeds, history_share=0.5, day=100, primary_only=True)
    print(f"math: {len(train.readers)} train readers ({len(train_cats)} categories + 8 pairs), "
          f"{len(test.readers)} test readers ({len(test_cats)} + 8), {len(test.days)} days of "
          f"{DAY}, vocabulary {train.vocab.size} terms; kaggle: {len(kaggle.readers)} readers, "
          f"vocabulary {kaggle.vocab.size} terms")

    def mean(split, params):
        return evaluate(split, params).mean(axis=0)

    # tuning on train readers only: each kind's grid, the best train nDCG@10 wins
    grid_C = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)

    def tune(kind, grid):
        scored = []
        for p in grid:
            scored.append((mean(train, p)[1], p))
            print(f"  train {describe(p)}: nDCG@10 {scored[-1][0]:.4f}", flush=True)
        # within 0.001 the cheaper solver wins (the centroid needs no C and refits 3-4x faster)
        return max(scored, key=lambda t: (round(t[0], 3), t[1].solver == "centroid"))[1]

    chosen = {}
    chosen["svm_text (tuned)"] = tune("svm_text", [ModelParams("svm_text", C=c) for c in grid_C])
    chosen["linear_vector"] = tune("linear_vector", [
        ModelParams("linear_vector", C=c) for c in grid_C] + [
        ModelParams("linear_vector", solver="centroid")])
    comb_svm = tune("combined", [ModelParams("combined", C=c, vector_scale=vs)
                                 for c in grid_C for vs in (0.5, 1.0, 2.0)])
    comb_centroid = tune("combined", [ModelParams("combined", solver="centroid", vector_scale=vs)
                                      for vs in (0.5, 1.0, 2.0)])
    chosen["combined"] = max((comb_svm, comb_centroid), key=lambda p: mean(train, p)[1])
    chosen["nearest_liked"] = ModelParams("nearest_liked")
    bases = [replace(comb_svm, kind="hybrid"), replace(comb_centroid, kind="hybrid")]
    chosen["hybrid"] = tune("hybrid", [replace(p, knn_weight=kw) for p in bases
                                       for kw in (0.1, 0.25, 0.5, 1.0)])
    rows = {"random": None, "svm_text (arxiv-sanity-lite, C=0.1) = baseline": BASELINE_PARAMS,
            **chosen, "shipped (DEFAULT_PARAMS)": DEFAULT_PARAMS}
    print(f"\ntest readers (p@10, nDCG@10; mean over readers of their days), "
          f"{time.perf_counter() - started:.0f} s so far")
    results = {}
    every = "svm_text, every other history paper a negative (as arxiv-sanity-lite)"
    for split in (train, test, kaggle):
        for label, params in rows.items():
            results[split.name, label] = evaluate(split, params)
        results[split.name, every] = evaluate(split, BASELINE_PARAMS, all_negatives=True)
    rows[every] = BASELINE_PARAMS
    base = "svm_text (arxiv-sanity-lite, C=0.1) = baseline"
    print("| model | params | math train p@10 | nDCG@10 | math test p@10 | nDCG@10 | "
          "kaggle p@10 | nDCG@10 | test nDCG@10 - baseline (95 % CI) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, params in rows.items():
        cells = []
        for split in (train, test, kaggle):
            m = results[split.name, label].mean(axis=0)
            cells += [f"{m[0]:.3f}", f"{m[1]:.3f}"]
        d, lo, hi = paired_ci(results["test", label][:, 1], results["test", base][:, 1])
        print(f"| {label} | {describe(params)} | " + " | ".join(cells) + f" | {d:+.3f} ({lo:+.3f}..{hi:+.3f}) |")
    print("\nmath test nDCG@10 by profile size (liked papers):")
    for size in SIZES:
        pick = np.array([r.name.split("/")[1] == str(size) for r in test.readers])
        cells = []
        for label in (base, "shipped (DEFAULT_PARAMS)"):
            per = evaluate(Split(test.name, test.vocab,
                                 [r for r, k in zip(test.readers, pick) if k], test.days),
                           rows[label])
            cells.append(f"{per[:, 1].mean():.3f}")
        print(f"  {size:>2} liked: baseline {cells[0]}, shipped {cells[1]} ({pick.sum()} readers)")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


def rss_peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cmd_speed(args) -> None:
    """Refit of one reader with 1,000 signals; one day's 1,000 papers ranked for N readers in
    one batch, beside one reader at a time (the same models)."""
    import statistics

    from paperboy.recommend import (
        BASELINE_PARAMS,
        DEFAULT_PARAMS,
        Item,
        Vocabulary,
        fit_reader,
        rank,
        rank_many,
    )

    recs = load_math()
    vecs = vectors_for("math", recs)
    items = [Item(r.paper_id, r.text, v) for r, v in zip(recs, vecs)]
    history, day = items[:-1000], items[-1000:]
    t0 = time.perf_counter()
    vocab = Vocabulary.fit([it.text for it in history], vecs[:-1000])
    print(f"vocabulary on {len(history)} papers: {vocab.size} terms, "
          f"{time.perf_counter() - t0:.2f} s")
    rng = np.random.default_rng(0)
    print("\nrefit one reader, 1,000 signals (800 liked + 200 sampled negatives):")
    for label, params in (("baseline svm_text", BASELINE_PARAMS), ("shipped", DEFAULT_PARAMS)):
        vocab._rows.clear()
        pick = rng.choice(len(history), 1000 + args.refits, replace=False)
        liked = [history[i] for i in pick[:800]]
        negs = [history[i] for i in pick[800:1000]]
        t0 = time.perf_counter()
        fit_reader(liked, negs, vocab, params)
        cold = time.perf_counter() - t0
        warm = []
        for extra in pick[1000:]:  # one new signal each time: its text is the only new row
            liked = liked[1:] + [history[extra]]
            t0 = time.perf_counter()
            fit_reader(liked, negs, vocab, params)
            warm.append(time.perf_counter() - t0)
        print(f"  {label}: first fit {cold * 1000:.0f} ms (tf-idf of 1,000 texts included), "
              f"refit after one new signal: median {statistics.median(warm) * 1000:.1f} ms, "
              f"p90 {np.percentile(warm, 90) * 1000:.1f} ms ({len(warm)} refits)")

    print(f"\nrank one day ({len(day)} papers) for {args.readers} readers "
          f"({args.distinct} distinct models, reused):")
    for label, params in (("baseline svm_text", BASELINE_PARAMS), ("shipped", DEFAULT_PARAMS)):
        distinct = []
        for _ in range(args.distinct):
            size = int(min(500, rng.geometric(1 / 30)))
            pick = rng.choice(len(history), size + NEG, replace=False)
            distinct.append(fit_reader([history[i] for i in pick[:size]],
                                       [history[i] for i in pick[size:]], vocab, params))
        models = [distinct[i % len(distinct)] for i in range(args.readers)]
        liked = sum(len(m.liked_ids) for m in models) / len(models)
        vocab._rows.clear()
        t0 = time.perf_counter()
        batch = rank_many(models, day, vocab)
        batch_s = time.perf_counter() - t0
        n_single = min(args.single, len(models))
        vocab._rows.clear()
        t0 = time.perf_counter()
        single = np.stack([rank(m, day, vocab) for m in models[:n_single]])
        single_s = (time.perf_counter() - t0) * len(models) / n_single
        assert np.allclose(single, batch[:n_single], atol=1e-4)
        print(f"  {label}: batch {batch_s:.1f} s; one reader at a time {single_s:.0f} s "
              f"(measured on {n_single} readers, scaled to {len(models)}); "
              f"{single_s / batch_s:.1f}x; mean {liked:.0f} liked per reader; "
              f"peak RSS {rss_peak_mb():.0f} MB")


def describe(params) -> str:
    if params is None:
        return "-"
    out = params.kind
    if params.kind != "nearest_liked":
        out += f", {params.solver}" + (f" C={params.C}" if params.solver == "svm" else "")
    if params.kind in ("combined", "hybrid"):
        out += f", scale={params.vector_scale}"
    if params.kind == "hybrid":
        out += f", knn={params.knn_weight}"
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("embed", help="embed the records once (cached under benchmarks/out/)")
    q = sub.add_parser("quality", help="p@10 / nDCG@10 of each model on simulated readers")
    q.add_argument("--seeds", type=int, default=3, help="readers per interest and profile size")
    sp_ = sub.add_parser("speed", help="refit and batch-rank timings")
    sp_.add_argument("--readers", type=int, default=10000)
    sp_.add_argument("--distinct", type=int, default=300, help="models fitted, then reused")
    sp_.add_argument("--single", type=int, default=500, help="readers ranked one at a time")
    sp_.add_argument("--refits", type=int, default=30)
    args = parser.parse_args(argv)
    {"embed": cmd_embed, "quality": cmd_quality, "speed": cmd_speed}[args.cmd](args)


if __name__ == "__main__":
    main()
