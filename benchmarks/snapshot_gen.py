"""Generate a large file in the Kaggle arXiv snapshot format (for benchmarks and kill tests).

Each generated line takes the shape of one of the 200 real sample records (field set, author
count with 3- or 4-element ``authors_parsed`` entries, 1-5 versions, comments / journal-ref /
DOI / license present or null, abstract length) when the sample is available, cycling through
them, and gives it a fresh new-style id (``YYMM.NNNNN``), a title made unique with its number
and an abstract rotated by a varying number of words so no two texts are equal. Without the
sample a built-in template of the same shape is used.

    python benchmarks/snapshot_gen.py OUT.jsonl 1000000 [--sample PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_SAMPLE = (Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-kaggle-sample"
                  / "arxiv-metadata-oai-snapshot.sample.jsonl")

_FALLBACK = {
    "id": "0704.0001", "submitter": "Ada Lovelace",
    "authors": "Ada Lovelace, Alan Turing and Grace Hopper",
    "title": "On the analytical engine and\n  its computable numbers",
    "comments": "12 pages, 3 figures", "journal-ref": None, "doi": None, "report-no": None,
    "categories": "cs.LG cs.AI", "license": None,
    "abstract": "  We study " + " ".join(f"word{i}" for i in range(150)) + ".\n",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
                 {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"}],
    "update_date": "2008-11-13",
    "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""], ["Hopper", "Grace", "", "Navy"]],
}


def load_templates(sample: Path | None) -> list[dict]:
    if sample and sample.is_file():
        with open(sample, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return [_FALLBACK]


def paper_id(n: int) -> str:
    """Unique new-style ids: 99,999 per month starting 2001, 1M ids span ~11 months."""
    month, number = divmod(n, 99_999)
    year, mon = divmod(month, 12)
    return f"{(20 + year) % 100:02d}{mon + 1:02d}.{number + 1:05d}"


def generate(out: Path, count: int, sample: Path | None = DEFAULT_SAMPLE) -> Path:
    templates = load_templates(sample)
    words = [t["abstract"].split() for t in templates]
    with open(out, "w", encoding="utf-8") as fh:
        for n in range(count):
            i = n % len(templates)
            rec = dict(templates[i])
            w = words[i]
            k = n % max(1, len(w))
            rec["id"] = paper_id(n)
            rec["title"] = f"{rec['title']} (study {n})"
            rec["abstract"] = " ".join(w[k:] + w[:k]) + f" Record {n}."
            fh.write(json.dumps(rec, ensure_ascii=False))
            fh.write("\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("count", type=int)
    ap.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    args = ap.parse_args()
    generate(args.out, args.count, args.sample)


if __name__ == "__main__":
    main()
