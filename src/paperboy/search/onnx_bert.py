"""Build an ONNX graph for a BERT sentence encoder straight from its safetensors weights.

This is how Paperboy runs sentence-transformers models without torch: the graph is the BERT
encoder (embeddings, N transformer layers with exact GELU), then the sentence-transformers
pooling (mean over real tokens, or CLS) and optional L2 normalization, all inside the graph, so
one onnxruntime call returns the final vectors. Weights are stored transposed once, so each dense
layer is a plain MatMul + Add, which onnxruntime's optimizer fuses.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Bump when the graph layout changes: cached .onnx files of another version are rebuilt.
GRAPH_FORMAT = 1
OPSET = 17


class _Graph:
    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        self._n += 1
        out = f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def _linear(g: _Graph, x: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
    wt = g.const(f"{name}.wT", w.T.astype(np.float32))
    bias = g.const(f"{name}.b", b.astype(np.float32))
    return g.op("Add", [g.op("MatMul", [x, wt]), bias])


def _layer_norm(g: _Graph, x: str, w: np.ndarray, b: np.ndarray, eps: float, name: str) -> str:
    scale = g.const(f"{name}.w", w.astype(np.float32))
    bias = g.const(f"{name}.b", b.astype(np.float32))
    return g.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def build_bert_encoder(
    weights: dict[str, np.ndarray],
    config: dict,
    pooling: str = "mean",
    normalize: bool = True,
) -> onnx.ModelProto:
    """The ONNX model: inputs input_ids, attention_mask (int64 [batch, seq]) -> embedding."""
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
    w = lambda key: weights[prefix + key]  # noqa: E731
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    act = config.get("hidden_act", "gelu")
    if act not in ("gelu", "gelu_new", "gelu_python"):
        raise ValueError(f"unsupported activation {act!r} (only BERT with GELU)")
    head_dim = hidden // heads

    g = _Graph()
    one_f = g.const("c.onef", np.array(1.0, dtype=np.float32))

    # Embeddings: word + position + token type 0, then LayerNorm.
    word = g.op("Gather", [g.const("emb.word", w("embeddings.word_embeddings.weight")), "input_ids"])
    seq_len = g.op("Shape", ["input_ids"], start=1, end=2)  # 1-D [seq]
    pos = g.op("Slice", [g.const("emb.pos", w("embeddings.position_embeddings.weight")),
                         g.const("c.zero1", np.array([0], dtype=np.int64)), seq_len,
                         g.const("c.axis0", np.array([0], dtype=np.int64))])
    tok = g.const("emb.type0", w("embeddings.token_type_embeddings.weight")[0])
    x = g.op("Add", [g.op("Add", [word, pos]), tok])
    x = _layer_norm(g, x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps, "emb.ln")

    # Additive attention mask [batch, 1, 1, seq]: 0 for tokens, a large negative for padding.
    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    neg = g.op("Mul", [g.op("Sub", [one_f, mask_f]),
                       g.const("c.neg", np.array(np.finfo(np.float32).min, dtype=np.float32))])
    ext = g.op("Unsqueeze", [neg, g.const("c.axes12", np.array([1, 2], dtype=np.int64))])

    split_shape = g.const("c.split", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = g.const("c.merge", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("c.scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    sqrt2 = g.const("c.sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.const("c.half", np.array(0.5, dtype=np.float32))

    for i in range(layers):
        p = f"encoder.layer.{i}."
        q = _linear(g, x, w(p + "attention.self.query.weight"), w(p + "attention.self.query.bias"), f"l{i}.q")
        k = _linear(g, x, w(p + "attention.self.key.weight"), w(p + "attention.self.key.bias"), f"l{i}.k")
        v = _linear(g, x, w(p + "attention.self.value.weight"), w(p + "attention.self.value.bias"), f"l{i}.v")
        q = g.op("Transpose", [g.op("Reshape", [q, split_shape])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, split_shape])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, split_shape])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), ext])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("MatMul", [probs, v])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        attn = _linear(g, ctx, w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias"), f"l{i}.o")
        x = _layer_norm(g, g.op("Add", [attn, x]), w(p + "attention.output.LayerNorm.weight"),
                        w(p + "attention.output.LayerNorm.bias"), eps, f"l{i}.ln1")
        h = _linear(g, x, w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"), f"l{i}.ff1")
        # Exact GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        h = g.op("Mul", [g.op("Mul", [h, half]),
                         g.op("Add", [g.op("Erf", [g.op("Div", [h, sqrt2])]), one_f])])
        o = _linear(g, h, w(p + "output.dense.weight"), w(p + "output.dense.bias"), f"l{i}.ff2")
        x = _layer_norm(g, g.op("Add", [o, x]), w(p + "output.LayerNorm.weight"),
                        w(p + "output.LayerNorm.bias"), eps, f"l{i}.ln2")

    if pooling == "cls":
        pooled = g.op("Squeeze", [g.op("Slice", [x, g.const("c.s0", np.array([0], dtype=np.int64)),
                                                 g.const("c.s1", np.array([1], dtype=np.int64)),
                                                 g.const("c.s_ax", np.array([1], dtype=np.int64))])],
                      )
        pooled = g.op("Reshape", [pooled, g.const("c.bh", np.array([0, hidden], dtype=np.int64))])
    elif pooling == "mean":
        m3 = g.op("Unsqueeze", [mask_f, g.const("c.ax2", np.array([2], dtype=np.int64))])
        axis1 = g.const("c.ax1", np.array([1], dtype=np.int64))
        summed = g.op("ReduceSum", [g.op("Mul", [x, m3]), axis1], keepdims=0)
        count = g.op("ReduceSum", [mask_f, axis1], keepdims=1)
        count = g.op("Max", [count, g.const("c.tiny", np.array(1e-9, dtype=np.float32))])
        pooled = g.op("Div", [summed, count])
    else:
        raise ValueError(f"unsupported pooling {pooling!r} (mean or cls)")
    if normalize:
        norm = g.op("ReduceL2", [pooled], axes=[-1], keepdims=1)
        norm = g.op("Max", [norm, g.const("c.eps12", np.array(1e-12, dtype=np.float32))])
        pooled = g.op("Div", [pooled, norm])
    g.nodes.append(helper.make_node("Identity", [pooled], ["embedding"]))

    graph = helper.make_graph(
        g.nodes,
        "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="paperboy")
    model.ir_version = 8
    return model


def save_model(model: onnx.ModelProto, path: Path) -> None:
    """Write atomically: a reader never sees half a model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(model.SerializeToString())
    tmp.replace(path)
