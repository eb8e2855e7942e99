"""TeX typesetting cost on feed pages, and whether caching conversions pays.

    nice .venv/bin/python benchmarks/bench_texmath.py [--rounds 5]

Texts: the 3,397 real math abstracts and titles of ../shared/data/arxiv-math-2505 (TeX-heavy),
cut into feed pages of 30 cards, each card rendering its title and a 300-character abstract
excerpt through ``paperboy.web.templating`` (``highlight``, what ``_card.html`` calls). Every page
is rendered ``--rounds`` times, as a feed page is viewed again and again. Three ways, in one run:
escaping only with TeX left as written (the code before typesetting, the baseline); typesetting
with the conversion cache cleared before every page (uncached); typesetting with the cache.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from markupsafe import escape

from paperboy import texmath
from paperboy.web.templating import excerpt, highlight

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-math-2505" / "arxiv_data.csv"


def pages(per_page: int = 30) -> list[list[tuple[str, str]]]:
    with DATA.open(newline="") as f:
        rows = [(r["title"], r["abstract"]) for r in csv.DictReader(f)]
    return [rows[i : i + per_page] for i in range(0, len(rows), per_page)]


def render(page) -> int:
    return sum(len(highlight(t)) + len(highlight(excerpt(a, 300))) for t, a in page)


def render_escaped(page) -> int:
    return sum(len(escape(t)) + len(escape(excerpt(a, 300))) for t, a in page)


def timed(all_pages, rounds: int, fn, before_page=None) -> list[float]:
    times = []
    for _ in range(rounds):
        for page in all_pages:
            if before_page:
                before_page()
            t0 = time.perf_counter()
            fn(page)
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    all_pages = pages()
    spans = sum(len(texmath.TEX_RE.findall(t + " " + excerpt(a, 300))) for p in all_pages for t, a in p)
    parsed = sum(texmath.tex_to_mathml(s) is not None for p in all_pages for t, a in p
                 for s in texmath.TEX_RE.findall(t + " " + excerpt(a, 300)))
    print(f"{len(all_pages)} pages of 30 cards, {spans} TeX spans shown ({parsed} typeset, "
          f"{spans - parsed} kept as written)")
    texmath.tex_to_mathml.cache_clear()
    rows = [("escape only (baseline)", timed(all_pages, args.rounds, render_escaped)),
            ("typeset, uncached", timed(all_pages, args.rounds, render, texmath.tex_to_mathml.cache_clear))]
    texmath.tex_to_mathml.cache_clear()
    rows.append(("typeset, cached", timed(all_pages, args.rounds, render)))
    base = statistics.median(rows[0][1])
    for name, times in rows:
        med = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{name:24s} median {med:6.2f} ms/page  p95 {p95:6.2f} ms  ({med / base:.1f}x baseline)")


if __name__ == "__main__":
    main()
