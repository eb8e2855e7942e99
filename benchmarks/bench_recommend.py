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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("embed", help="embed the records once (cached under benchmarks/out/)")
    args = parser.parse_args(argv)
    {"embed": cmd_embed}[args.cmd](args)


if __name__ == "__main__":
    main()
