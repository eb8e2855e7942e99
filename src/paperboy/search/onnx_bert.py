"""Build an ONNX graph for a BERT sentence encoder straight from its safetensors weights.

This is how Paperboy runs sentence-transformers models without torch: the graph is the BERT
encoder (embeddings, N transformer layers with exact GELU), then the sentence-transformers
pooling (mean over real tokens, or CLS) and optional L2 normalization, all inside the graph, so
one onnxruntime call returns the final vectors. Weights are stored transposed once (each dense
layer is a plain MatMul).

The layers use onnxruntime's fused contrib operators (domain ``com.microsoft``), so the graph
runs on onnxruntime only: ``Attention`` (packed Q/K/V projection, scaled scores, padding mask,
Softmax, weighted sum in one kernel), ``SkipLayerNormalization`` (dense bias + residual +
LayerNorm) and ``BiasGelu`` (bias + exact erf GELU). Written as plain ONNX ops, onnxruntime's
own optimizer does not recognise this attention, and the broadcast Add of the mask onto the
[batch, heads, seq, seq] scores alone took a fifth of the kernel time in a profile; the fused
graph computes the same function in fp32 (vectors equal to cosine > 0.99999).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Bump when the graph layout changes: cached .onnx files of another version are rebuilt.
#: 3: the weights in a file of their own beside the graph.
GRAPH_FORMAT = 3
OPSET = 17
#: onnxruntime's contrib operators (Attention, SkipLayerNormalization, BiasGelu).
MS = "com.microsoft"


class _Graph:
    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self._n = 0

    def const(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        from onnx import helper

        self._n += 1
        out = f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


def _layer_norm(g: _Graph, x: str, w: np.ndarray, b: np.ndarray, eps: float, name: str) -> str:
    scale = g.const(f"{name}.w", w.astype(np.float32))
    bias = g.const(f"{name}.b", b.astype(np.float32))
    return g.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def _skip_layer_norm(g: _Graph, x: str, skip: str, bias: np.ndarray, w: np.ndarray, b: np.ndarray,
                     eps: float, name: str) -> str:
    """LayerNorm(x + bias + skip): the dense layer's bias, the residual and the norm in one op."""
    return g.op("SkipLayerNormalization",
                [x, skip, g.const(f"{name}.w", w.astype(np.float32)),
                 g.const(f"{name}.b", b.astype(np.float32)),
                 g.const(f"{name}.dense_b", bias.astype(np.float32))],
                domain=MS, epsilon=eps)


def build_bert_encoder(
    weights: dict[str, np.ndarray],
    config: dict,
    pooling: str = "mean",
    normalize: bool = True,
) -> onnx.ModelProto:
    """The ONNX model: inputs input_ids, attention_mask (int64 [batch, seq]) -> embedding."""
    # onnx is imported only here: a process that runs a cached graph never loads it.
    from onnx import TensorProto, helper

    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
    w = lambda key: weights[prefix + key]  # noqa: E731
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    act = config.get("hidden_act", "gelu")
    if act not in ("gelu", "gelu_new", "gelu_python"):
        raise ValueError(f"unsupported activation {act!r} (only BERT with GELU)")

    g = _Graph()

    # Embeddings: word + position + token type 0, then LayerNorm.
    word = g.op("Gather", [g.const("emb.word", w("embeddings.word_embeddings.weight")), "input_ids"])
    seq_len = g.op("Shape", ["input_ids"], start=1, end=2)  # 1-D [seq]
    pos = g.op("Slice", [g.const("emb.pos", w("embeddings.position_embeddings.weight")),
                         g.const("c.zero1", np.array([0], dtype=np.int64)), seq_len,
                         g.const("c.axis0", np.array([0], dtype=np.int64))])
    tok = g.const("emb.type0", w("embeddings.token_type_embeddings.weight")[0])
    x = g.op("Add", [g.op("Add", [word, pos]), tok])
    x = _layer_norm(g, x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps, "emb.ln")

    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)  # for the mean pooling
    # The raw [batch, seq] 0/1 mask as int32: Attention adds a large negative to padded keys.
    mask_index = g.op("Cast", ["attention_mask"], to=TensorProto.INT32)

    for i in range(layers):
        p = f"encoder.layer.{i}."
        a = p + "attention."
        # One packed [hidden, 3*hidden] projection for Q, K and V; com.microsoft.Attention does
        # scores, scaling by 1/sqrt(head_dim), the padding mask, Softmax and the weighted sum.
        qkv_w = np.concatenate([w(a + f"self.{n}.weight").T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w(a + f"self.{n}.bias") for n in ("query", "key", "value")])
        ctx = g.op("Attention", [x, g.const(f"l{i}.qkv.wT", qkv_w.astype(np.float32)),
                                 g.const(f"l{i}.qkv.b", qkv_b.astype(np.float32)), mask_index],
                   domain=MS, num_heads=heads)
        attn = g.op("MatMul", [ctx, g.const(f"l{i}.o.wT", w(a + "output.dense.weight").T.astype(np.float32))])
        x = _skip_layer_norm(g, attn, x, w(a + "output.dense.bias"), w(a + "output.LayerNorm.weight"),
                             w(a + "output.LayerNorm.bias"), eps, f"l{i}.ln1")
        h = g.op("MatMul", [x, g.const(f"l{i}.ff1.wT", w(p + "intermediate.dense.weight").T.astype(np.float32))])
        # Exact (erf) GELU with the dense bias folded in.
        h = g.op("BiasGelu", [h, g.const(f"l{i}.ff1.b", w(p + "intermediate.dense.bias").astype(np.float32))],
                 domain=MS)
        o = g.op("MatMul", [h, g.const(f"l{i}.ff2.wT", w(p + "output.dense.weight").T.astype(np.float32))])
        x = _skip_layer_norm(g, o, x, w(p + "output.dense.bias"), w(p + "output.LayerNorm.weight"),
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
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="paperboy")
    model.ir_version = 8
    return model


def save_model(model: onnx.ModelProto, path: Path) -> None:
    """Write the graph to ``path`` and its weights to ``<path>.data`` beside it, atomically: a
    reader never sees half a model. onnxruntime maps a weights file instead of parsing 90 MB of
    protobuf, which makes a session several times quicker to create (RESULTS.md, "Issue 16":
    ``paperboy search`` process time)."""
    import shutil
    import tempfile

    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    data = weights_path(path)
    # processes building at once each write into their own folder, then rename: the weights
    # first, so the graph never names a missing file
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        onnx.save_model(model, str(work / path.name), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data.name, size_threshold=1024)
        # onnx writes the weights readable by their owner only; a server running as another
        # user reads them too, like the graph
        shutil.copymode(work / path.name, work / data.name)
        (work / data.name).replace(data)
        (work / path.name).replace(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def weights_path(path: Path) -> Path:
    """Where :func:`save_model` puts the weights of the graph at ``path``."""
    return path.with_name(path.name + ".data")
