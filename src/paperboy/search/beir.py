"""Search quality on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).

The corpus goes into a scratch SQLite store through the normal upsert path (so the FTS triggers
build the lexical index exactly as in production), vectors come from the configured embedder
(cached per dataset + model in the data directory, since embedding a corpus takes minutes on two
cores), and every query runs through SearchService.search. Metrics: nDCG@10 (graded gains,
log2 discount, the BEIR/pytrec_eval definition) and recall@100.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from paperboy.errors import PaperboyError
from paperboy.records import Paper
from paperboy.settings import Settings

ID_PREFIX = "beir:"


def load_jsonl(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                raise PaperboyError(f"{path}:{n}: not a JSON object") from None
    return out


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if n == 1 and parts[0] == "query-id":
                continue
            if len(parts) < 3:
                raise PaperboyError(f"{path}:{n}: expected query-id, corpus-id, score")
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in rels.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


class BeirDataset:
    def __init__(self, directory: Path, split: str = "test"):
        self.directory = Path(directory)
        for needed in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
            if not (self.directory / needed).is_file():
                raise PaperboyError(f"{self.directory} is not a BEIR dataset: no {needed}")
        self.name = self.directory.name
        self.corpus = load_jsonl(self.directory / "corpus.jsonl")
        self.queries = {str(q["_id"]): q["text"] for q in load_jsonl(self.directory / "queries.jsonl")}
        self.qrels = load_qrels(self.directory / "qrels" / f"{split}.tsv")

    def papers(self) -> list[Paper]:
        return [Paper(id=ID_PREFIX + str(d["_id"]), title=d.get("title") or "",
                      abstract=d.get("text") or "") for d in self.corpus]


def corpus_vectors(dataset: BeirDataset, embedder, cache_dir: Path, progress: bool) -> np.ndarray:
    """Vectors for the corpus, cached by dataset content + model (embedding takes minutes)."""
    from paperboy.storage.search_index import embed_text

    texts = [embed_text(d.get("title"), d.get("text")) for d in dataset.corpus]
    digest = hashlib.blake2b(json.dumps(texts).encode(), digest_size=8).hexdigest()
    tag = f"{embedder.model_id}-{embedder.max_length}".replace("/", "_")
    path = cache_dir / f"{dataset.name}-{digest}-{tag}.npy"
    if path.is_file():
        return np.load(path)
    vecs = embedder.embed(texts, progress=progress, desc=f"embed {dataset.name}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npy")
    np.save(tmp, vecs)
    tmp.replace(path)
    return vecs


def build_scratch(dataset: BeirDataset, settings: Settings, scratch: Path, embedder, progress: bool):
    """A store in ``scratch`` holding the corpus and its vectors; returns the SearchService."""
    from paperboy.search.service import SearchService
    from paperboy.storage import open_store
    from paperboy.storage.search_index import text_hash

    scratch_settings = settings.model_copy(update={"data_dir": scratch, "database_url": ""})
    store = open_store(scratch_settings)
    papers = dataset.papers()
    for start in range(0, len(papers), 2000):
        store.papers.upsert(papers[start:start + 2000], source="beir")
    vecs = corpus_vectors(dataset, embedder, settings.data_dir / "eval-cache", progress)
    rows = [(p.id, text_hash(p.title, p.abstract), v) for p, v in zip(papers, vecs)]
    for start in range(0, len(rows), 2000):
        store.search.put_embeddings(embedder.model_id, rows[start:start + 2000])
    service = SearchService(store, scratch_settings, embedder=embedder)
    service.upkeep.catch_up(progress=progress)
    return service


def run_queries(service, dataset: BeirDataset, mode: str, k: int = 100, **kwargs) -> dict:
    ndcgs, recalls = [], []
    started = time.perf_counter()
    for qid, rels in dataset.qrels.items():
        text = dataset.queries.get(qid)
        if text is None:
            continue
        res = service.search(text, limit=k, mode=mode, **kwargs)
        ranked = [h.id[len(ID_PREFIX):] for h in res.hits]
        ndcgs.append(ndcg_at(ranked, rels, 10))
        recalls.append(recall_at(ranked, rels, 100))
    took = time.perf_counter() - started
    n = max(len(ndcgs), 1)
    return {"ndcg@10": sum(ndcgs) / n, "recall@100": sum(recalls) / n,
            "ms_per_query": 1000 * took / n, "queries": len(ndcgs)}


def evaluate_beir(directory: Path, modes: list[str], split: str, settings: Settings,
                  progress: bool = False, fusion: str | None = None, embedder=None) -> dict:
    from paperboy.search.embedder import Embedder

    dataset = BeirDataset(directory, split)
    if embedder is None:
        embedder = Embedder(settings.embedding_model, cache_dir=settings.data_dir / "models",
                            max_length=settings.embedding_max_length,
                            batch_size=settings.embedding_batch_size,
                            precision=settings.embedding_precision)
    with tempfile.TemporaryDirectory(prefix="paperboy-beir-") as tmp:
        service = build_scratch(dataset, settings, Path(tmp), embedder, progress)
        if fusion:
            service.fusion = fusion
        try:
            results = {mode: run_queries(service, dataset, mode) for mode in modes}
        finally:
            service.store.close()
    return {"dataset": dataset.name, "split": split, "documents": len(dataset.corpus),
            "queries": len([q for q in dataset.qrels if q in dataset.queries]),
            "model": embedder.model_id, "modes": results}
