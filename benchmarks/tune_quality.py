"""Issue 16 follow-up: what else might lift SciFact hybrid nDCG@10, chosen on train, looked at once on test.

    nice .venv/bin/python benchmarks/tune_quality.py lengths    # abstracts beyond MiniLM's 256 tokens
    nice .venv/bin/python benchmarks/tune_quality.py lexical    # BM25 k1/b, stemming, RM3 feedback
    nice .venv/bin/python benchmarks/tune_quality.py weight     # a query-dependent fusion weight
    nice .venv/bin/python benchmarks/tune_quality.py forms      # other fixed forms of the fusion
    nice .venv/bin/python benchmarks/tune_quality.py prf        # feedback on the meaning side
    nice .venv/bin/python benchmarks/tune_quality.py passages   # passage vectors (embeds once, cached)

Each grid runs on the train claims (809); the setting it picks is then scored on the test claims
(300) in the same run, beside the shipped fusion (``0.35 * bm25 / best_bm25 + 0.65 * cosine``).

Every query is scored against the whole corpus on both sides, so a form's top 10 is the one the
service would return. BM25 is computed here with numpy over the product's analyzer, in tantivy's
formula (idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``, k1 1.2, b 0.75, document lengths rounded
down to tantivy's one-byte field norms), so that k1/b and weighted expansion terms can be tried;
it reproduces the index's train nDCG@10 (lexical 0.7102, hybrid 0.7461 against tantivy's 0.7464).
Vectors: the corpus cache of ``paperboy eval beir`` / tune_hybrid.py (benchmarks/out/eval), query
vectors and passage vectors cached beside it.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperboy.search.beir import BeirDataset, corpus_vectors, ndcg_at  # noqa: E402
from paperboy.search.embedder import Embedder  # noqa: E402
from paperboy.search.keywords import TITLE_REPEAT, KeywordQuery, analyze  # noqa: E402
from paperboy.search.query import STOP_WORDS, parse_query  # noqa: E402
from paperboy.storage.search_index import embed_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out" / "eval"
SHIPPED_ALPHA = 0.35


def _fieldnorm_table() -> np.ndarray:
    """tantivy's 256 field-norm values (Lucene's SmallFloat: 24 exact, then 4-bit floats)."""
    def int4_to_long(i: int) -> int:
        bits, shift = i & 7, (i >> 3) - 1
        return bits if shift == -1 else (bits | 8) << shift
    return np.array([b if b < 24 else 24 + int4_to_long(b - 24) for b in range(256)], np.float64)


_TABLE = _fieldnorm_table()


def fieldnorm(lengths: np.ndarray) -> np.ndarray:
    return _TABLE[np.searchsorted(_TABLE, lengths, side="right") - 1].astype(np.float32)


class Corpus:
    """SciFact's abstracts: analyzed tokens (title counted TITLE_REPEAT times, as indexed) and
    first-256-token MiniLM vectors."""

    def __init__(self, embedder: Embedder, analyzer=analyze, title_repeat: int = TITLE_REPEAT):
        ds = BeirDataset(SHARED / "scifact", "train")
        self.docs = ds.corpus
        self.ids = [str(d["_id"]) for d in ds.corpus]
        self.vecs = corpus_vectors(ds, embedder, OUT / "eval-cache", progress=True)
        self.analyzer = analyzer
        toks = [analyzer("\n".join([d.get("title") or ""] * title_repeat + [d.get("text") or ""]))
                for d in ds.corpus]
        self.vocab: dict[str, int] = {}
        rows, cols = [], []
        for i, doc in enumerate(toks):
            for tok in doc:
                rows.append(i)
                cols.append(self.vocab.setdefault(tok, len(self.vocab)))
        self.tf = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                shape=(len(toks), len(self.vocab)))
        self.tf.sum_duplicates()
        self.length = np.array([len(t) for t in toks], np.float32)
        self.N = len(toks)
        df = np.asarray((self.tf > 0).sum(0)).ravel()
        self.idf = np.log(1 + (self.N - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._weights: dict[tuple[float, float], sp.csc_matrix] = {}

    def weights(self, k1: float, b: float) -> sp.csc_matrix:
        """Each (document, token)'s BM25 contribution."""
        if (k1, b) not in self._weights:
            tf = self.tf.tocoo()
            norm = k1 * (1 - b + b * fieldnorm(self.length) / self.length.mean())
            w = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
            self._weights[(k1, b)] = sp.csc_matrix((w, (tf.row, tf.col)), shape=tf.shape)
        return self._weights[(k1, b)]

    def query_tokens(self, text: str) -> list[str]:
        parsed = parse_query(text)
        if self.analyzer is analyze:
            return KeywordQuery.from_words(parsed.terms, parsed.phrases).tokens
        return list(dict.fromkeys(t for w in parsed.terms for t in self.analyzer(w)))

    def bm25(self, tokens: dict[str, float] | list[str], k1: float = 1.2, b: float = 0.75
             ) -> np.ndarray:
        """BM25 of every document for these tokens (a dict: weighted tokens)."""
        weighted = tokens if isinstance(tokens, dict) else dict.fromkeys(tokens, 1.0)
        known = [(self.vocab[t], w) for t, w in weighted.items() if t in self.vocab]
        if not known:
            return np.zeros(self.N, np.float32)
        cols, w = zip(*known)
        return np.asarray(self.weights(k1, b)[:, list(cols)] @ np.array(w, np.float32)).ravel()


class Claims:
    """One split's claims with their BM25 and cosine against every abstract."""

    def __init__(self, corpus: Corpus, split: str, embedder: Embedder):
        ds = BeirDataset(SHARED / "scifact", split)
        self.split = split
        self.qrels = {q: r for q, r in ds.qrels.items() if q in ds.queries}
        self.texts = [ds.queries[q] for q in self.qrels]
        cache = OUT / f"scifact-claims-{split}.npy"
        if cache.is_file():
            self.qvecs = np.load(cache)
        else:
            self.qvecs = embedder.embed(self.texts)
            np.save(cache, self.qvecs)
        self.tokens = [corpus.query_tokens(t) for t in self.texts]
        self.cos = self.qvecs @ corpus.vecs.T
        self.bm25 = np.stack([corpus.bm25(t) for t in self.tokens])
        self.ids = corpus.ids

    def per_query(self, scores: np.ndarray) -> np.ndarray:
        out = []
        for row, rels in zip(scores, self.qrels.values()):
            top = np.argpartition(-row, 10)[:10]
            top = top[np.lexsort((top, -row[top]))]
            out.append(ndcg_at([self.ids[t] for t in top], rels, 10))
        return np.array(out)

    def ndcg(self, scores: np.ndarray) -> float:
        return float(self.per_query(scores).mean())


def by_best(bm25: np.ndarray) -> np.ndarray:
    best = bm25.max(axis=-1, keepdims=True)
    return np.where(best > 0, bm25 / np.where(best > 0, best, 1), 0.0)


def fused(bm25: np.ndarray, cos: np.ndarray, alpha: float = SHIPPED_ALPHA) -> np.ndarray:
    return alpha * by_best(bm25) + (1 - alpha) * cos


def load(embedder, splits=("train", "test"), analyzer=analyze, title_repeat: int = TITLE_REPEAT):
    corpus = Corpus(embedder, analyzer, title_repeat)
    return corpus, [Claims(corpus, s, embedder) for s in splits]


def with_baseline(embedder, side: str):
    """Corpus, train and test claims, and the shipped fusion's (train, test) nDCG@10, printed
    beside ``side`` alone (lexical: BM25, dense: cosine)."""
    corpus, (train, test) = load(embedder)
    base = (train.ndcg(fused(train.bm25, train.cos)), test.ndcg(fused(test.bm25, test.cos)))
    alone = (lambda c: c.bm25) if side == "lexical" else (lambda c: c.cos)
    print(f"shipped: {side} train {train.ndcg(alone(train)):.4f} test {test.ndcg(alone(test)):.4f}; "
          f"hybrid train {base[0]:.4f} test {base[1]:.4f}")
    return corpus, train, test, base


def report(name: str, train: float, test: float | None, base: tuple[float, float]) -> None:
    tail = "" if test is None else f"   test {test:.4f} ({test - base[1]:+.4f})"
    print(f"{name:58} train {train:.4f} ({train - base[0]:+.4f}){tail}", flush=True)


# -- lengths ---------------------------------------------------------------------------------


def lengths(args, embedder) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(embedder.tokenizer.to_str())
    tok.no_truncation()
    scifact = BeirDataset(SHARED / "scifact", "train").corpus
    with open(SHARED / "arxiv-math-2505" / "arxiv_data.csv", encoding="utf-8") as fh:
        arxiv = list(csv.DictReader(fh))
    for name, texts in (("SciFact", [embed_text(d.get("title"), d.get("text")) for d in scifact]),
                        ("arXiv math 2505", [embed_text(r["title"], r["abstract"]) for r in arxiv])):
        n = np.array([len(e.ids) for e in tok.encode_batch(texts)])
        print(f"{name}: {len(n)} texts, tokens median {np.median(n):.0f} p90 {np.percentile(n, 90):.0f}; "
              f"over {embedder.max_length}: {np.mean(n > embedder.max_length):.3f}, over 384: "
              f"{np.mean(n > 384):.3f}; tokens cut from those over: "
              f"{(n[n > embedder.max_length] - embedder.max_length).mean():.0f} on average")


# -- lexical ---------------------------------------------------------------------------------


def stemless_analyzer():
    import tantivy as tv

    a = (tv.TextAnalyzerBuilder(tv.Tokenizer.simple()).filter(tv.Filter.remove_long(40))
         .filter(tv.Filter.lowercase()).filter(tv.Filter.ascii_fold()).build())
    return a.analyze


def rm3_scores(corpus: Corpus, claims: Claims, first: np.ndarray, k: int, m: int, lam: float,
               idf_weighted: bool, alpha: float = SHIPPED_ALPHA) -> np.ndarray:
    """Expand each claim's keyword query with the ``m`` heaviest tokens of its ``k`` best fused
    abstracts (relevance model: mean of the abstracts' token frequencies / length, optionally
    times idf; stop words and numbers left out), mixed ``(1 - lam)`` original, ``lam`` expansion;
    then fuse again."""
    stop = {t for w in STOP_WORDS for t in analyze(w)}
    names = np.array(list(corpus.vocab))
    bad = np.array([t in stop or t.isdigit() or len(t) < 2 for t in names])
    share = sp.csr_matrix(corpus.tf.multiply(1 / corpus.length[:, None]))
    out = np.zeros_like(first)
    for i, tokens in enumerate(claims.tokens):
        top = np.argsort(-first[i])[:k]
        p = np.asarray(share[top].sum(0)).ravel() / k
        if idf_weighted:
            p = p * corpus.idf
        p[bad] = 0
        chosen = np.argpartition(-p, m)[:m]
        chosen = chosen[p[chosen] > 0]
        query: dict[str, float] = {t: (1 - lam) / max(len(tokens), 1) for t in tokens}
        for j in chosen:
            query[names[j]] = query.get(names[j], 0.0) + lam * p[j] / p[chosen].sum()
        out[i] = fused(corpus.bm25(query), claims.cos[i], alpha)
    return out


def lexical(args, embedder) -> None:
    corpus, train, test, base = with_baseline(embedder, "lexical")
    grid = {}
    for k1, b in itertools.product((0.9, 1.2, 1.5, 2.0), (0.5, 0.75, 0.9)):
        bm = np.stack([corpus.bm25(t, k1, b) for t in train.tokens])
        grid[(k1, b)] = (train.ndcg(bm), train.ndcg(fused(bm, train.cos)))
        print(f"  k1 {k1} b {b}: lexical {grid[(k1, b)][0]:.4f} hybrid {grid[(k1, b)][1]:.4f}")
    k1, b = max(grid, key=lambda kb: grid[kb][1])
    test_bm = np.stack([corpus.bm25(t, k1, b) for t in test.tokens])
    report(f"BM25 k1 {k1} b {b} (best on train)", grid[(k1, b)][1], test.ndcg(fused(test_bm, test.cos)), base)

    from paperboy.search.query import words

    def with_stop_words(claims: Claims) -> np.ndarray:
        return np.stack([corpus.bm25(list(dict.fromkeys(t for w in words(text) for t in analyze(w))))
                         for text in claims.texts])
    stop_train, stop_test = with_stop_words(train), with_stop_words(test)
    report(f"stop words kept in the query (lexical alone: train {train.ndcg(stop_train):.4f} test "
           f"{test.ndcg(stop_test):.4f})", train.ndcg(fused(stop_train, train.cos)),
           test.ndcg(fused(stop_test, test.cos)), base)

    for repeat in (1, 2, 4, 5):
        _, (rtrain, rtest) = load(embedder, title_repeat=repeat)
        grid = {a: rtrain.ndcg(fused(rtrain.bm25, rtrain.cos, a)) for a in (0.3, 0.35, 0.4)}
        a = max(grid, key=grid.get)
        report(f"title counted {repeat}x (shipped: {TITLE_REPEAT}x), alpha {a}; lexical alone: "
               f"train {rtrain.ndcg(rtrain.bm25):.4f} test {rtest.ndcg(rtest.bm25):.4f}",
               grid[a], rtest.ndcg(fused(rtest.bm25, rtest.cos, a)), base)

    _, (ptrain, ptest) = load(embedder, analyzer=stemless_analyzer())
    report(f"no stemming (lexical alone: train {ptrain.ndcg(ptrain.bm25):.4f} test "
           f"{ptest.ndcg(ptest.bm25):.4f})", ptrain.ndcg(fused(ptrain.bm25, train.cos)),
           ptest.ndcg(fused(ptest.bm25, test.cos)), base)
    mixes = {w: train.ndcg(fused((1 - w) * train.bm25 + w * ptrain.bm25, train.cos))
             for w in (0.3, 0.5)}
    w = max(mixes, key=mixes.get)
    report(f"stemmed + unstemmed BM25, {1 - w:.1f} / {w:.1f}", mixes[w],
           test.ndcg(fused((1 - w) * test.bm25 + w * ptest.bm25, test.cos)), base)

    results = {}
    for k, m, lam, idf_w in itertools.product((3, 5, 10), (10, 20), (0.2, 0.35, 0.5), (False, True)):
        results[(k, m, lam, idf_w)] = train.ndcg(
            rm3_scores(corpus, train, fused(train.bm25, train.cos), k, m, lam, idf_w))
        print(f"  RM3 k {k} m {m} lambda {lam} idf {idf_w}: {results[(k, m, lam, idf_w)]:.4f}", flush=True)
    best = max(results, key=results.get)
    k, m, lam, idf_w = best
    report(f"RM3 k {k} m {m} lambda {lam} idf {idf_w} (best on train)", results[best],
           test.ndcg(rm3_scores(corpus, test, fused(test.bm25, test.cos), k, m, lam, idf_w)), base)


# -- a query-dependent weight ----------------------------------------------------------------

ALPHAS = np.round(np.arange(0.0, 1.001, 0.05), 2)


def query_features(corpus: Corpus, claims: Claims) -> dict[str, np.ndarray]:
    """Features known before ranking or from the top of each list (the same for every limit)."""
    bm = -np.sort(-claims.bm25, axis=1)[:, :2]
    cos = -np.sort(-claims.cos, axis=1)[:, :2]
    idf_sum = np.array([sum(corpus.idf[corpus.vocab[t]] for t in q if t in corpus.vocab)
                        for q in claims.tokens])
    return {
        "query tokens": np.array([len(q) for q in claims.tokens], float),
        "best BM25": bm[:, 0],
        "BM25 gap (1st - 2nd) / 1st": (bm[:, 0] - bm[:, 1]) / np.maximum(bm[:, 0], 1e-9),
        "best BM25 / sum of query idf": bm[:, 0] / np.maximum(idf_sum, 1e-9),
        "best cosine": cos[:, 0],
        "cosine gap (1st - 2nd)": cos[:, 0] - cos[:, 1],
    }


def weight(args, embedder) -> None:
    corpus, (train, test) = load(embedder)
    grids = {}
    for claims in (train, test):
        norm = by_best(claims.bm25)
        grids[claims.split] = np.stack(
            [claims.per_query(a * norm + (1 - a) * claims.cos) for a in ALPHAS], 1)
    shipped = int(np.flatnonzero(ALPHAS == SHIPPED_ALPHA)[0])
    base = (grids["train"][:, shipped].mean(), grids["test"][:, shipped].mean())
    print(f"one weight: best on train alpha {ALPHAS[grids['train'].mean(0).argmax()]} "
          f"{grids['train'].mean(0).max():.4f}; shipped {base[0]:.4f} / test {base[1]:.4f}; a "
          f"weight chosen per claim with its judgments (oracle, unreachable): train "
          f"{grids['train'].max(1).mean():.4f}")
    tests = query_features(corpus, test)
    for name, values in query_features(corpus, train).items():
        # quartiles of the feature on train, the best weight of each quartile on train
        edges = np.quantile(values, [0.25, 0.5, 0.75])
        picks = [int(grids["train"][np.searchsorted(edges, values, side="right") == q].mean(0).argmax())
                 for q in range(4)]
        chosen_train = grids["train"][np.arange(len(values)),
                                      [picks[q] for q in np.searchsorted(edges, values, side="right")]]
        tq = np.searchsorted(edges, tests[name], side="right")
        chosen_test = grids["test"][np.arange(len(tq)), [picks[q] for q in tq]]
        report(f"weight by quartile of {name}: {[float(ALPHAS[p]) for p in picks]}",
               chosen_train.mean(), chosen_test.mean(), base)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every document per query (ties by position)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.broadcast_to(np.arange(1, scores.shape[1] + 1), order.shape), 1)
    return out


def other_forms(claims: Claims, sample: np.ndarray) -> dict[str, dict[float, np.ndarray]]:
    """Other fixed forms of the fused score, each with a grid of its one parameter."""
    norm = by_best(claims.bm25)
    cos = claims.cos
    spread = cos[:, sample]
    z = (cos - spread.mean(1, keepdims=True)) / spread.std(1, keepdims=True)
    lex_rank = np.where(claims.bm25 > 0, ranks(claims.bm25), 10**9)
    rrf = 1 / (10 + lex_rank) + 1 / (10 + ranks(cos))
    return {
        "bm25/best + w * z-score of the cosine over 1,000 fixed papers":
            {w: norm + w * z for w in (0.05, 0.1, 0.15, 0.2, 0.3, 0.5)},
        "shipped + w * reciprocal ranks (k 10)":
            {w: fused(claims.bm25, cos) + w * rrf for w in (0.05, 0.1, 0.2, 0.4)},
        "0.35 * bm25/best + 0.65 * cosine^p":
            {p: fused(claims.bm25, np.sign(cos) * np.abs(cos) ** p) for p in (0.5, 0.75, 1.5, 2)},
    }


def forms(args, embedder) -> None:
    corpus, train, test, base = with_baseline(embedder, "dense")
    sample = np.random.default_rng(0).choice(corpus.N, 1000, replace=False)
    on_test = other_forms(test, sample)
    on_train = other_forms(train, sample)
    # score smoothing over the corpus graph: each paper gains a share of its k nearest papers'
    # fused scores (a neighbour list per paper, computed at index time)
    sims = corpus.vecs @ corpus.vecs.T
    np.fill_diagonal(sims, -1)
    name = "shipped + g * mean shipped score of the paper's k nearest papers"
    for claims, out in ((train, on_train), (test, on_test)):
        base_scores = fused(claims.bm25, claims.cos)
        out[name] = {(k, g): base_scores + g * base_scores[:, np.argsort(-sims, 1)[:, :k]].mean(2)
                     for k in (3, 8) for g in (0.1, 0.2, 0.4)}
    for name, grid in on_train.items():
        got = {w: train.ndcg(scores) for w, scores in grid.items()}
        w = max(got, key=got.get)
        print("  " + name + ": " + " ".join(f"{k}: {v:.4f}" for k, v in got.items()))
        report(f"{name}, {w}", got[w], test.ndcg(on_test[name][w]), base)


# -- feedback on the meaning side ------------------------------------------------------------


def prf_dense(corpus: Corpus, claims: Claims, k: int, beta: float) -> np.ndarray:
    """Cosine to the query vector moved towards the mean vector of the k best fused papers
    (Rocchio feedback in vector space: a second vector search per query, no second model)."""
    first = fused(claims.bm25, claims.cos)
    top = np.argpartition(-first, k, axis=1)[:, :k]
    moved = claims.qvecs + beta * corpus.vecs[top].mean(1)
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return moved @ corpus.vecs.T


def prf(args, embedder) -> None:
    corpus, train, test, base = with_baseline(embedder, "dense")
    grid = [(k, beta, alpha) for k in (3, 5, 10) for beta in (0.25, 0.5, 1.0)
            for alpha in (0.25, 0.3, 0.35, 0.4, 0.45)]
    got, dense = {}, {}
    for k, beta, alpha in grid:
        if (k, beta) not in dense:
            dense[(k, beta)] = prf_dense(corpus, train, k, beta)
        got[(k, beta, alpha)] = train.ndcg(fused(train.bm25, dense[(k, beta)], alpha))
    for k, beta in dense:
        print(f"  k {k} beta {beta}: dense alone {train.ndcg(dense[(k, beta)]):.4f}; hybrid " +
              " ".join(f"{a}: {got[(k, beta, a)]:.4f}" for a in (0.25, 0.3, 0.35, 0.4, 0.45)))
    k, beta, alpha = max(got, key=got.get)
    report(f"vector feedback k {k} beta {beta} alpha {alpha}", got[(k, beta, alpha)],
           test.ndcg(fused(test.bm25, prf_dense(corpus, test, k, beta), alpha)), base)


# -- passages --------------------------------------------------------------------------------


def passage_texts(embedder: Embedder, window: int, overlap: int, tails_only: bool
                  ) -> tuple[list[int], list[str]]:
    """Passages of SciFact's abstracts: the title, then a window of the abstract's tokens
    (``window`` with the title and the special tokens), windows overlapping by ``overlap``.
    ``tails_only``: only the windows after the first (the paper's own vector covers that)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(embedder.tokenizer.to_str())
    tok.no_truncation()
    owners, texts = [], []
    for i, d in enumerate(BeirDataset(SHARED / "scifact", "train").corpus):
        title, abstract = (d.get("title") or "").strip(), (d.get("text") or "").strip()
        if not abstract:
            continue
        head = f"{title}. " if title else ""
        room = max(32, window - 2 - len(tok.encode(head, add_special_tokens=False).ids))
        enc = tok.encode(abstract, add_special_tokens=False)
        start = room - overlap if tails_only else 0
        if tails_only and len(enc.ids) <= room:
            continue
        while True:
            end = min(len(enc.ids), start + room)
            texts.append(head + abstract[enc.offsets[start][0]:enc.offsets[end - 1][1]])
            owners.append(i)
            if end >= len(enc.ids):
                break
            start = end - overlap
    return owners, texts


def passage_vectors(embedder, window, overlap, tails_only) -> tuple[np.ndarray, np.ndarray]:
    path = OUT / f"scifact-passages-w{window}-o{overlap}{'-tails' if tails_only else ''}.npz"
    if not path.is_file():
        owners, texts = passage_texts(embedder, window, overlap, tails_only)
        print(f"embedding {len(texts)} passages (once; cached in {path.name})", flush=True)
        np.savez(path, owners=np.array(owners), vecs=embedder.embed(texts, progress=True))
    z = np.load(path)
    return z["owners"], z["vecs"]


def first_512(embedder: Embedder, corpus: Corpus) -> np.ndarray:
    """One vector per abstract from up to 512 tokens (MiniLM's position limit; the model card's
    and the product's is 256): only the abstracts longer than 256 change."""
    path = OUT / "scifact-first512.npz"
    if not path.is_file():
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(embedder.tokenizer.to_str())
        tok.enable_truncation(max_length=512)
        texts = [embed_text(d.get("title"), d.get("text")) for d in corpus.docs]
        long = np.flatnonzero([len(e.ids) > 256 for e in tok.encode_batch(texts)])
        embedder.tokenizer, embedder.max_length = tok, 512
        print(f"embedding {len(long)} abstracts at up to 512 tokens (once)", flush=True)
        np.savez(path, idx=long, vecs=embedder.embed([texts[i] for i in long], progress=True))
    z = np.load(path)
    vecs = corpus.vecs.copy()
    vecs[z["idx"]] = z["vecs"]
    return vecs


def doc_max(n_docs: int, owners: np.ndarray, sims: np.ndarray) -> np.ndarray:
    """Per query and document, the best similarity of its passages (-1 without passages)."""
    order = np.argsort(owners, kind="stable")
    owners, sims = owners[order], sims[:, order]
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    out = np.full((sims.shape[0], n_docs), -1.0, np.float32)
    out[:, owners[starts]] = np.maximum.reduceat(sims, starts, axis=1)
    return out


def passages(args, embedder) -> None:
    corpus, train, test, base = with_baseline(embedder, "dense")
    tails = passage_vectors(embedder, 256, 32, tails_only=True)
    short = passage_vectors(embedder, 128, 16, tails_only=False)

    up_to_512 = first_512(embedder, corpus)

    def forms(claims: Claims) -> dict[str, np.ndarray]:
        first = claims.cos
        tail = doc_max(corpus.N, tails[0], claims.qvecs @ tails[1].T)
        has_tail = tail > -1
        out = {
            "one vector of up to 512 tokens": claims.qvecs @ up_to_512.T,
            "256-token windows: max over passages (MaxP)": np.maximum(first, tail),
            "256-token windows: first + 0.5 * max(0, best tail - first)":
                np.where(has_tail, first + 0.5 * np.maximum(tail - first, 0), first),
        }
        summed = corpus.vecs.copy()
        np.add.at(summed, tails[0], tails[1])
        mean = summed / np.linalg.norm(summed, axis=1, keepdims=True)
        out["256-token windows: one vector, mean of the passages'"] = claims.qvecs @ mean.T
        win = doc_max(corpus.N, short[0], claims.qvecs @ short[1].T)
        firsts = np.flatnonzero(np.r_[True, short[0][1:] != short[0][:-1]])
        head = np.zeros_like(corpus.vecs)
        head[short[0][firsts]] = short[1][firsts]
        out["first 128 tokens only (cheaper to embed)"] = claims.qvecs @ head.T
        out["128-token windows: MaxP"] = win
        out["128-token windows: max(first 256, MaxP)"] = np.maximum(first, win)
        out["128-token windows: (first 256 + MaxP) / 2"] = (first + win) / 2
        summed = np.zeros_like(corpus.vecs)
        np.add.at(summed, short[0], short[1])
        out["128-token windows: one vector, mean of the passages'"] = \
            claims.qvecs @ (summed / np.linalg.norm(summed, axis=1, keepdims=True)).T
        return out

    on_test = forms(test)
    for name, dense in forms(train).items():
        grid = {a: train.ndcg(fused(train.bm25, dense, a)) for a in (0.25, 0.3, 0.35, 0.4, 0.45)}
        a = max(grid, key=grid.get)
        print(f"  {name}: dense train {train.ndcg(dense):.4f} test {test.ndcg(on_test[name]):.4f}; "
              "hybrid train " + " ".join(f"a {k}: {v:.4f}" for k, v in grid.items()))
        report(f"{name}, alpha {a}", grid[a], test.ndcg(fused(test.bm25, on_test[name], a)), base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["lengths", "lexical", "weight", "forms", "prf", "passages"])
    args = parser.parse_args()
    embedder = Embedder(cache_dir=OUT / "models")
    {"lengths": lengths, "lexical": lexical, "weight": weight, "forms": forms, "prf": prf,
     "passages": passages}[args.what](
        args, embedder)


if __name__ == "__main__":
    main()
