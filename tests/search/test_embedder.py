"""The onnxruntime embedder against sentence-transformers' own vectors (fixture computed once
with sentence-transformers + torch, which the project never depends on)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from paperboy.search.embedder import Embedder, ModelError, resolve_model_dir
from paperboy.search.onnx_bert import GRAPH_FORMAT

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "minilm_reference.json"


def test_vectors_match_sentence_transformers(embedder):
    ref = json.loads(FIXTURE.read_text())
    got = embedder.embed(ref["texts"])
    want = np.asarray(ref["vectors"], dtype=np.float32)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    cos = (got * want).sum(axis=1)
    assert cos.min() >= 0.999, cos
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert got.shape == (len(ref["texts"]), 384) and got.dtype == np.float32


def test_batching_and_length_sorting_keep_order(embedder):
    texts = ["short", "a much longer text about graph neural networks and molecules " * 5, "", "mid text"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_single_thread_query_vector_is_the_same(embedder):
    text = "which attention heads fetch facts from a long prompt"
    assert np.allclose(embedder.embed_one(text, single_thread=True), embedder.embed_one(text),
                       atol=1e-5)
    assert np.allclose(embedder.embed_one("", single_thread=True), embedder.embed([""])[0], atol=1e-5)


def test_token_budget_splits_batches_without_changing_vectors(embedder, monkeypatch):
    texts = [f"text number {i} " + "about sparse attention " * (i % 7) for i in range(20)]
    whole = embedder.embed(texts)
    sizes = []
    real_run = embedder._run
    monkeypatch.setattr(embedder, "_run", lambda encs: sizes.append(len(encs)) or real_run(encs))
    monkeypatch.setattr(embedder, "tokens_per_batch", 40)
    split = embedder.embed(texts)
    assert np.allclose(whole, split, atol=1e-5)
    assert sum(sizes) == len(texts) and max(sizes) < embedder.batch_size


def test_graph_uses_fused_contrib_operators(embedder):
    import onnx

    ops = {n.op_type for n in onnx.load(str(embedder.onnx_path)).graph.node}
    assert {"Attention", "SkipLayerNormalization", "BiasGelu"} <= ops
    assert "Softmax" not in ops and "Erf" not in ops


def test_graph_is_cached_and_reused(tmp_path):
    first = Embedder(cache_dir=tmp_path)
    stamp = first.onnx_path.stat().st_mtime_ns
    assert first.onnx_path.parent == tmp_path and f"-g{GRAPH_FORMAT}." in first.onnx_path.name
    second = Embedder(cache_dir=tmp_path)
    assert second.onnx_path == first.onnx_path and second.onnx_path.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".*tmp"))


def test_graph_weights_sit_beside_it_and_sessions_are_made_when_used(tmp_path):
    """The cached graph keeps its weights in a file of their own (onnxruntime maps it); a
    process that embeds one query on one thread makes that session only."""
    from paperboy.search.onnx_bert import weights_path

    one = Embedder(cache_dir=tmp_path, threads=2)
    assert weights_path(one.onnx_path).stat().st_size > 80e6  # the weights: 90 MB of float32
    assert one.onnx_path.stat().st_size < 1e6  # the graph alone
    assert one._sessions == {}
    one.embed_one("a query", single_thread=True)
    assert set(one._sessions) == {1}
    one.embed(["two", "texts"])
    assert set(one._sessions) == {1, 2}


@pytest.mark.parametrize("damage", ["truncated graph", "weights deleted", "weights truncated"])
def test_unusable_cached_graph_is_built_again(tmp_path, embedder, damage, caplog):
    from paperboy.search.onnx_bert import weights_path

    path = Embedder(cache_dir=tmp_path).onnx_path
    weights = weights_path(path)
    if damage == "truncated graph":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "weights deleted":
        weights.unlink()
    else:
        weights.write_bytes(weights.read_bytes()[:1000])
    again = Embedder(cache_dir=tmp_path)
    text = "sparse attention for long documents"
    assert np.allclose(again.embed([text]), embedder.embed([text]), atol=1e-5)
    assert weights.stat().st_size > 80e6
    # a missing weights file is seen when the graph is looked up; a damaged one when loaded
    assert ("building it again" in caplog.text) == (damage != "weights deleted")
    assert not list(tmp_path.glob(".*"))  # no build folder left behind


def test_unusable_int8_graph_is_built_again(tmp_path):
    quick = Embedder(cache_dir=tmp_path, quantize=True)
    quick.onnx_path.write_bytes(b"not a model")
    again = Embedder(cache_dir=tmp_path, quantize=True)
    assert again.embed(["residual networks"]).shape == (1, 384)
    assert again.onnx_path.stat().st_size > 1e6


def test_graphs_of_older_formats_are_removed(tmp_path):
    first = Embedder(cache_dir=tmp_path)
    stem = first.onnx_path.name.rsplit(f"-g{GRAPH_FORMAT}.onnx", 1)[0]
    old = [tmp_path / f"{stem}-g{GRAPH_FORMAT - 1}.onnx", tmp_path / f"{stem}-g{GRAPH_FORMAT - 1}-int8.onnx"]
    for path in old:
        path.write_bytes(b"old graph")
    first.onnx_path.unlink()  # the next process builds the current format again
    Embedder(cache_dir=tmp_path)
    assert not any(path.exists() for path in old)
    assert first.onnx_path.is_file()


def test_local_sentence_transformers_folder(tmp_path, embedder):
    bundled = resolve_model_dir("all-MiniLM-L6-v2")
    local = tmp_path / "my-model"
    local.mkdir()
    for item in bundled.iterdir():
        os.symlink(item, local / item.name)
    mine = Embedder(str(local), cache_dir=tmp_path / "cache")
    assert mine.model_id == str(local)
    text = ["sparse autoencoders find interpretable features"]
    assert np.allclose(mine.embed(text), embedder.embed(text), atol=1e-5)


def test_bad_models_give_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="does not exist"):
        Embedder(str(tmp_path / "nowhere"))
    folder = tmp_path / "gpt"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gpt2", "hidden_size": 8}')
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="only BERT models"):
        Embedder(str(folder), cache_dir=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="has no config.json"):
        Embedder(str(tmp_path / "empty"))


def test_hub_id_offline_is_a_clear_error(monkeypatch):
    """Tests never touch the network: the hub client is put in offline mode."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError) as info:
        Embedder("no-such-org/no-such-model")
    message = str(info.value)
    assert "cannot download embedding model 'no-such-org/no-such-model'" in message
    assert "\n" not in message


def test_int8_variant_is_close(tmp_path, embedder):
    quick = Embedder(cache_dir=tmp_path, quantize=True)
    assert quick.model_id == "all-MiniLM-L6-v2+int8"
    texts = ["attention heads retrieve facts from long prompts", "residual networks for images"]
    cos = (quick.embed(texts) * embedder.embed(texts)).sum(axis=1)
    assert cos.min() > 0.95
