"""Embedding on a GPU: abstracts/s of Paperboy's onnxruntime CUDA path, beside the same
machine's CPU path and sentence-transformers on torch (CUDA), with the GPU vectors checked
against the CPU ones (cosine; the issue asks for >= 0.999 on every text).

Run on a machine with an NVIDIA GPU, onnxruntime-gpu (``pip install 'paperboy[gpu]'``) and,
for the baseline, torch + sentence-transformers:

    python3 benchmarks/bench_embed_gpu.py --model DIR --texts texts.json --out result.json

``--texts`` is a JSON list of strings (``--make-texts FILE`` writes SciFact's 5,183
"title. abstract" texts from ../shared/data/scifact there); ``--model`` is a
sentence-transformers folder (the bundled all-MiniLM-L6-v2 when left out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def make_texts(path: Path) -> None:
    corpus = ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl"
    with open(corpus, encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    path.write_text(json.dumps([f"{d['title']}. {d['text']}" for d in docs]), encoding="utf-8")
    print(f"wrote {len(docs)} texts to {path}")


def timed(fn, reps: int) -> float:
    """Best wall time of ``reps`` calls (after the caller's warm-up)."""
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder (default: the bundled one)")
    ap.add_argument("--texts", type=Path)
    ap.add_argument("--make-texts", type=Path, help="write the SciFact texts here and stop")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.make_texts:
        make_texts(args.make_texts)
        return

    import onnxruntime as ort

    from paperboy.search.embedder import DEFAULT_MODEL, Embedder, resolve_model_dir

    model = args.model or DEFAULT_MODEL
    texts = json.loads(args.texts.read_text(encoding="utf-8"))
    result: dict = {"python": platform.python_version(), "onnxruntime": ort.__version__,
                    "providers": ort.get_available_providers(), "texts": len(texts),
                    "cpu_count": os.cpu_count(), "runs": []}
    print(json.dumps({k: result[k] for k in ("onnxruntime", "providers", "texts", "cpu_count")}))
    cache = Path(tempfile.mkdtemp(prefix="pb-onnx-"))

    def record(name: str, n: int, seconds: float, **extra) -> None:
        row = {"name": name, "texts": n, "seconds": round(seconds, 4),
               "per_s": round(n / seconds, 1), **extra}
        result["runs"].append(row)
        print(json.dumps(row), flush=True)

    # CPU reference vectors and rate (all cores of this machine), on a subset.
    cpu = Embedder(model=model, cache_dir=cache, device="cpu", precision="fp32")
    cpu.embed(texts[:64])
    started = time.perf_counter()
    ref = cpu.embed(texts)
    record("paperboy onnxruntime CPU fp32 (batch 32, 4096 tokens)", len(texts),
           time.perf_counter() - started, threads=cpu.threads)

    # CUDA: the default batching, then larger batches (a GPU wants more rows per run).
    for batch, tokens in ((32, 4096), (128, 32768), (256, 65536), (512, 131072)):
        gpu = Embedder(model=model, cache_dir=cache, device="cuda", batch_size=batch,
                       tokens_per_batch=tokens)
        assert gpu.device == "cuda", gpu.providers
        gpu.embed(texts[:2048])  # warm-up: kernels, arena, shapes
        vecs = gpu.embed(texts)
        cosine = np.sum(vecs * ref, axis=1)
        record(f"paperboy onnxruntime CUDA fp32 (batch {batch}, {tokens} tokens)", len(texts),
               timed(lambda: gpu.embed(texts), args.reps),
               cosine_min=round(float(cosine.min()), 6), cosine_mean=round(float(cosine.mean()), 6))
        del gpu

    # Named baseline: sentence-transformers on torch, same GPU, same texts, same 256-token cap.
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        print(f"no sentence-transformers baseline: {exc}")
    else:
        st = SentenceTransformer(str(resolve_model_dir(model)), device="cuda")
        st.max_seq_length = 256
        for batch in (32, 128, 512):
            st.encode(texts[:2048], batch_size=batch)
            torch.cuda.synchronize()
            st_vecs = st.encode(texts, batch_size=batch, normalize_embeddings=True)
            cosine = np.sum(st_vecs * ref, axis=1)
            record(f"sentence-transformers torch {torch.__version__} CUDA fp32 (batch {batch})",
                   len(texts), timed(lambda: (st.encode(texts, batch_size=batch),
                                              torch.cuda.synchronize()), args.reps),
                   cosine_min=round(float(cosine.min()), 6))
        result["gpu_name"] = torch.cuda.get_device_name(0)
    result["lengths_median_tokens"] = statistics.median(
        len(e.ids) for e in cpu.tokenizer.encode_batch(texts))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
