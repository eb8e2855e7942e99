"""Combining the keyword and meaning sides of a search into one ranking.

Every candidate (the union of the best keyword matches and the nearest vectors) carries both of
its scores, computed exactly for that paper: its BM25 for the query (0 when it contains none of
the words) and the cosine similarity of its vector to the query's. The fused score is a fixed
function of those two and of one number per query, the best BM25 under the query's filters:

    fused = alpha * bm25 / best_bm25 + (1 - alpha) * cosine

So a paper's score does not depend on which other papers were read as candidates, and the
ranking does not depend on the page size (an earlier version min-max normalized the cosines over
the candidate set, which grew with ``limit``). ``alpha`` and the form were chosen on SciFact's
train split (benchmarks/RESULTS.md, "Issue 16").

``rrf`` (reciprocal-rank fusion over the two candidate lists) stays as a comparison for
`paperboy eval beir --fusion rrf`; its ranks depend on how deep the lists were read.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Tuned on SciFact qrels/train.tsv (see benchmarks/RESULTS.md "Issue 16").
DEFAULT_ALPHA = 0.35
RRF_K = 60


@dataclass
class Candidate:
    doc_id: int
    lexical: float | None = None      # BM25 / ts_rank; None when the paper has none of the words
    dense: float | None = None        # cosine similarity
    lexical_rank: int | None = None   # 1-based rank in the keyword list, when read that deep
    dense_rank: int | None = None     # 1-based rank in the vector list, when read that deep
    fused: float = 0.0


def fused_score(lexical: float | None, dense: float | None, best_lexical: float,
                alpha: float = DEFAULT_ALPHA) -> float:
    """The hybrid score of one paper (see the module docstring)."""
    lx = lexical / best_lexical if (lexical and best_lexical > 0) else 0.0
    return alpha * lx + (1.0 - alpha) * (dense or 0.0)


def rrf(candidates: dict[int, Candidate], k: int = RRF_K) -> None:
    for c in candidates.values():
        c.fused = sum(1.0 / (k + r) for r in (c.lexical_rank, c.dense_rank) if r is not None)


def fuse(candidates: dict[int, Candidate], method: str = "score", alpha: float = DEFAULT_ALPHA,
         best_lexical: float = 0.0) -> list[Candidate]:
    """Candidates best first (ties broken by doc id for stable pages)."""
    if method == "rrf":
        rrf(candidates)
    elif method == "score":
        for c in candidates.values():
            c.fused = fused_score(c.lexical, c.dense, best_lexical, alpha)
    else:
        raise ValueError(f"unknown fusion method {method!r} (rrf or score)")
    return sorted(candidates.values(), key=lambda c: (-c.fused, c.doc_id))
