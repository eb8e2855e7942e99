"""The int8 embedding graph: int8 matrix products with the outlier channels kept in range.

onnxruntime's dynamic int8 products quantize their float input with one scale per run, set by
the largest value. In this BERT a few channels dwarf the rest (one LayerNorm output channel in
every layer, one GELU channel of each early layer on the [CLS] token), so plain dynamic int8
rounds everything else coarsely and lost SciFact quality (benchmarks/RESULTS.md, issue 18, has
the figures). Here, from a calibration pass over the shipped sample's abstracts (fp32, one text
per run):

* each LayerNorm output that feeds a product gets its ``OUTLIER_CHANNELS`` largest channels
  divided down to the level of the next largest (a second LayerNorm with scaled gain and bias;
  the weight rows multiplied back, so the product is unchanged in exact arithmetic);
* the GELU output feeding each FFN down-projection loses its ``OUTLIER_CHANNELS`` largest
  channels to a small fp32 side path (the quantized product sees exact zeros there).

Then every product is quantized (per-channel int8 weights, dynamic int8 activations) except
the side paths. The bundled model's calibration result ships in ``int8_calibration.json``
(keyed by a digest of its weights; a test checks it is what calibration computes), so a first
start skips the calibration pass; any other model is calibrated when its graph is built. The
recipe is versioned by :data:`paperboy.embedding.INT8_RECIPE`, which is in the model id, so
vectors of another recipe are never mixed with these.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

#: channels per product input given outlier handling
OUTLIER_CHANNELS = 2
#: a scaled channel is brought down to the maximum of the channel this many places below the
#: last outlier (2 outliers, rank 3: the 5th largest channel's)
LEVEL_RANK = 3
#: calibration texts, run one at a time in fp32 (a few seconds, once per model)
CALIBRATION_TEXTS = 48
#: the session must not fuse Add + Add + LayerNormalization back into SkipLayerNormalization
#: (its CPU kernel is the slow one) nor can it: the sum also feeds the scaled LayerNorm
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]
#: calibration results shipped for known weights: {weights digest: {tag: [channels, factors]}}
SHIPPED = Path(__file__).with_name("int8_calibration.json")


def weights_digest(path: Path) -> str:
    """Content digest of a weights file (read whole: a fraction of a second for MiniLM)."""
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def shipped_outliers(digest: str) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    entry = json.loads(SHIPPED.read_text()).get(digest) if SHIPPED.is_file() else None
    if entry is None:
        return None
    return {tag: (np.array(ch, dtype=np.int64), np.array(f, dtype=np.float32))
            for tag, (ch, f) in entry.items()}


def outliers_as_json(outliers: dict) -> dict:
    return {tag: [ch.tolist(), [float(x) for x in f]] for tag, (ch, f) in sorted(outliers.items())}


def calibration_texts() -> list[str]:
    """Title + abstract of the shipped sample's papers (always installed, never SciFact)."""
    from paperboy.ingest.sample import sample_items
    from paperboy.records import Paper
    from paperboy.storage.search_index import embed_text

    texts = [embed_text(p.title, p.abstract) for p in sample_items()
             if isinstance(p, Paper) and p.abstract]
    # every k-th paper, so both shipped files (2024 ML papers, 2007 arXiv physics) are in
    step = max(1, len(texts) // CALIBRATION_TEXTS)
    return texts[::step][:CALIBRATION_TEXTS]


def channel_maxima(weights: dict, config: dict, pooling: str, normalize: bool, tokenizer,
                   texts: list[str]) -> dict[str, np.ndarray]:
    """Per tapped tensor, the largest |value| of each channel over ``texts`` (fp32 graph)."""
    import onnxruntime as ort

    from paperboy.search.onnx_bert import build_bert_encoder

    model = build_bert_encoder(weights, config, pooling, normalize, taps=True)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs() if o.name.startswith("tap.")]
    maxima: dict[str, np.ndarray] = {}
    for text in texts:
        ids = np.array([tokenizer.encode(text or " ").ids], dtype=np.int64)
        outs = session.run(names, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for name, out in zip(names, outs):
            top = np.abs(out).reshape(-1, out.shape[-1]).max(axis=0)
            tag = name[len("tap."):]
            maxima[tag] = top if tag not in maxima else np.maximum(maxima[tag], top)
    return maxima


def choose_outliers(maxima: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(channels, factors) per product input: the largest channels, and for LayerNorm outputs
    the factor that brings each down to the level of the channel ``LEVEL_RANK`` places below."""
    chosen = {}
    for tag, top in maxima.items():
        order = np.argsort(-top, kind="stable")
        channels = order[:OUTLIER_CHANNELS]
        level = max(float(top[order[OUTLIER_CHANNELS - 1 + LEVEL_RANK]]), 1e-6)
        factors = np.maximum(top[channels] / level, 1.0).astype(np.float32)
        chosen[tag] = (channels, factors)
    return chosen


def calibrate(weights: dict, config: dict, pooling: str, normalize: bool, tokenizer_file: Path,
              max_length: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The outlier channels and factors, from the calibration texts cut at ``max_length``
    tokens (the model's own limit: the result does not depend on the max_length setting)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return choose_outliers(channel_maxima(weights, config, pooling, normalize, tokenizer,
                                          calibration_texts()))


def build_int8(weights: dict, config: dict, pooling: str, normalize: bool, tokenizer_file: Path,
               max_length: int, path: Path, digest: str) -> None:
    """Calibrate (unless shipped), build the graph with outlier handling, quantize it and write
    it to ``path``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from paperboy.search.onnx_bert import build_bert_encoder

    outliers = (shipped_outliers(digest)
                or calibrate(weights, config, pooling, normalize, tokenizer_file, max_length))
    model = build_bert_encoder(weights, config, pooling, normalize, plain_layer_norm=True,
                               outliers=outliers)
    side = [n.name for n in model.graph.node if ".side." in n.name and n.op_type == "MatMul"]
    tmp_fp32 = path.with_name(f".{path.name}.{os.getpid()}.fp32.tmp")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_fp32.write_bytes(model.SerializeToString())  # one file: what quantize_dynamic reads
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantization
        try:
            # Shape inference cannot type the contrib ops' outputs (Attention...): all float.
            quantize_dynamic(str(tmp_fp32), str(tmp), weight_type=QuantType.QInt8,
                             per_channel=True, nodes_to_exclude=side,
                             extra_options={"DefaultTensorType": 1})
        finally:
            root.setLevel(level)
        tmp.replace(path)
    finally:
        tmp_fp32.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
