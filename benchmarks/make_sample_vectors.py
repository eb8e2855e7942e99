"""Rewrite the shipped sample's vectors (src/paperboy/ingest/sample_data/sample_vectors.npz).

Run by hand whenever the default embedding path changes (its model id is what the file
records): a first start without network stores these instead of embedding the sample, so they
must be what the default settings compute.

    .venv/bin/python benchmarks/make_sample_vectors.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from paperboy.ingest.sample import VECTORS, load_sample, sample_items
    from paperboy.records import Paper
    from paperboy.search.service import SearchService
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from paperboy.storage.search_index import embed_text, text_hash

    with tempfile.TemporaryDirectory(prefix="paperboy-sample-") as tmp:
        settings = load_settings({"data_dir": Path(tmp)}, environ={})
        with open_store(settings) as store:
            load_sample(store)
            ids = sorted({p.id for p in sample_items() if isinstance(p, Paper)})
            papers = sorted(store.papers.get_many(ids), key=lambda p: p.id)
            service = SearchService(store, settings)
            vectors = service.embedder.embed([embed_text(p.title, p.abstract) for p in papers])
            np.savez_compressed(
                VECTORS, model=np.array(service.model_id),
                ids=np.array([p.id for p in papers]),
                text_hashes=np.array([text_hash(p.title or "", p.abstract or "") for p in papers]),
                vectors=vectors.astype(np.float32))
    print(f"{VECTORS}: {len(papers)} vectors of {service.model_id}")


if __name__ == "__main__":
    main()
