"""Combining the lexical and dense rankings into one.

Two methods, both measured on SciFact (tuned on qrels/train.tsv, reported on test; see
benchmarks/RESULTS.md):

* ``rrf`` — reciprocal-rank fusion, sum of 1 / (k + rank): the classic floor, scale-free.
* ``score`` (default) — weighted fusion of normalized scores over the union of both candidate
  lists, where *both* scores are known for every candidate: the dense similarity is computed
  for lexical-only candidates from their stored vectors and the BM25 score for dense-only
  candidates from a deeper keyword list (service.LEXICAL_POOL). Lexical scores are divided by
  the best lexical score of the query (BM25 has no fixed scale), dense similarities are min-max
  normalized over the candidates; fused = alpha * lexical + (1 - alpha) * dense.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Tuned on SciFact qrels/train.tsv (see benchmarks/RESULTS.md "Search quality").
DEFAULT_ALPHA = 0.45
RRF_K = 60


@dataclass
class Candidate:
    doc_id: int
    lexical: float | None = None      # BM25 / ts_rank, None when the document did not match
    dense: float | None = None        # cosine similarity
    lexical_rank: int | None = None   # 1-based rank in the lexical list
    dense_rank: int | None = None     # 1-based rank in the dense list
    fused: float = 0.0


def rrf(candidates: dict[int, Candidate], k: int = RRF_K) -> None:
    for c in candidates.values():
        c.fused = sum(1.0 / (k + r) for r in (c.lexical_rank, c.dense_rank) if r is not None)


def score_fusion(candidates: dict[int, Candidate], alpha: float = DEFAULT_ALPHA) -> None:
    lex = [c.lexical for c in candidates.values() if c.lexical is not None]
    dense = [c.dense for c in candidates.values() if c.dense is not None]
    lex_max = max(lex) if lex else 0.0
    d_lo, d_hi = (min(dense), max(dense)) if dense else (0.0, 0.0)
    d_span = d_hi - d_lo
    for c in candidates.values():
        lx = (c.lexical / lex_max) if (c.lexical is not None and lex_max > 0) else 0.0
        dn = ((c.dense - d_lo) / d_span) if (c.dense is not None and d_span > 0) else 0.0
        c.fused = alpha * lx + (1.0 - alpha) * dn


def fuse(candidates: dict[int, Candidate], method: str = "score", alpha: float = DEFAULT_ALPHA
         ) -> list[Candidate]:
    """Candidates best first (ties broken by doc id for stable pages)."""
    if method == "rrf":
        rrf(candidates)
    elif method == "score":
        score_fusion(candidates, alpha)
    else:
        raise ValueError(f"unknown fusion method {method!r} (rrf or score)")
    return sorted(candidates.values(), key=lambda c: (-c.fused, c.doc_id))
