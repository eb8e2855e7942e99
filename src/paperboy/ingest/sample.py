"""The sample shipped in the package, for a first run that could not fetch anything.

A new instance without network would otherwise serve "0 papers". ``paperboy up`` loads these
229 public records (a real Hugging Face daily-papers answer and 200 arXiv snapshot records, see
``sample_data/SOURCE.txt``) when the store is empty and nothing was fetched, through the same
pipeline as any import, under the provenance ``sample``, with their all-MiniLM-L6-v2 vectors
(shipped, so the first start serves in seconds instead of embedding first; another model
embeds them as usual); pages then show a "sample data" banner, and ``paperboy sample remove`` deletes exactly the papers that came from the sample
alone (one a real fetch also brought stays).
"""

from __future__ import annotations

import io
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from paperboy.ingest.pipeline import BatchListener, IngestReport, run_ingest
from paperboy.records import Paper, Reject
from paperboy.sources import hf_daily, snapshot
from paperboy.storage import Store
from paperboy.storage.search_index import text_hash

SOURCE = "sample"
DATA_DIR = Path(__file__).parent / "sample_data"
#: the sample papers' vectors: model, ids, text hashes (what was embedded), float32 vectors
VECTORS = DATA_DIR / "sample_vectors.npz"
#: sync_state key holding how many papers the sample brought (absent: no sample loaded)
STATE_KEY = "sample:papers"


def sample_items() -> Iterator[Paper | Reject]:
    return chain(hf_daily.read_file(DATA_DIR / "daily_papers_2024-10-25.json.gz"),
                 snapshot.read_snapshot(DATA_DIR / "arxiv-metadata-oai-snapshot.sample.jsonl.gz"))


def load_sample(store: Store, progress: bool | None = False,
                listeners: Iterable[BatchListener] = ()) -> IngestReport:
    """Import the sample (idempotent, like every import) and note that it is there."""
    report = run_ingest(store, sample_items(), SOURCE, progress=progress,
                        listeners=list(listeners), error_stream=io.StringIO())
    store.papers.set_state(STATE_KEY, str(report.new + report.updated + report.unchanged))
    return report


def attach_vectors(store: Store, model: str) -> int:
    """Store the shipped vectors of the sample papers when ``model`` is the one they were
    computed with and a paper's text is still the one embedded (same text hash); whatever
    is left is embedded as usual. Returns how many vectors were stored."""
    with np.load(VECTORS, allow_pickle=False) as data:
        if str(data["model"]) != model:
            return 0
        ids, hashes, vectors = data["ids"].tolist(), data["text_hashes"].tolist(), data["vectors"]
    current = {p.id: text_hash(p.title or "", p.abstract or "") for p in store.papers.get_many(ids)}
    rows = [(pid, digest, vectors[i]) for i, (pid, digest) in enumerate(zip(ids, hashes))
            if current.get(pid) == digest]
    return store.search.put_embeddings(model, rows)


def sample_count(store: Store) -> int:
    """How many papers the loaded sample brought (0: none loaded, or removed)."""
    value = store.papers.get_state(STATE_KEY)
    return int(value) if value and value.isdigit() else 0


def remove_sample(store: Store) -> tuple[list[str], list[int]]:
    """Delete the papers only the sample brought; (their ids, their search doc ids)."""
    ids, doc_ids = store.papers.remove_source_only(SOURCE)
    store.papers.delete_state(STATE_KEY)
    return ids, doc_ids
