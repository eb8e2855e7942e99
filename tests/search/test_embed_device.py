"""The embedding model on a GPU (onnxruntime's CUDA provider, the ``paperboy[gpu]`` extra): the
same vectors as on the CPU. Skipped where onnxruntime has no CUDA provider."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from paperboy.search.embedder import (CUDA_BATCH_SIZE, CUDA_TOKENS_PER_BATCH, Embedder,
                                      ModelError, execution_providers)
from tests.search.conftest import CORPUS

HAS_CUDA = "CUDAExecutionProvider" in ort.get_available_providers()


def test_cpu_and_auto_devices_choose_a_provider_that_exists():
    assert execution_providers("cpu") == ["CPUExecutionProvider"]
    expected = "CUDAExecutionProvider" if HAS_CUDA else "CPUExecutionProvider"
    assert execution_providers("auto")[0] == expected
    with pytest.raises(ModelError, match="use cpu, cuda or auto"):
        execution_providers("tpu")


@pytest.mark.skipif(HAS_CUDA, reason="onnxruntime has a CUDA provider here")
def test_cuda_without_a_cuda_onnxruntime_says_what_to_install():
    with pytest.raises(ModelError, match=r"pip install 'paperboy\[gpu\]'"):
        execution_providers("cuda")


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA provider (pip install 'paperboy[gpu]' on a GPU)")
def test_cuda_vectors_match_cpu_vectors(tmp_path, embedder):
    cuda = Embedder(cache_dir=tmp_path, batch_size=16, device="cuda")
    assert cuda.device == "cuda"
    # a GPU runs bigger batches than the CPU's (what the benchmark measured best)
    assert (cuda.batch_size, cuda.tokens_per_batch) == (CUDA_BATCH_SIZE, CUDA_TOKENS_PER_BATCH)
    texts = [f"{c['title']}. {c['abstract']}" for c in CORPUS]
    on_gpu, on_cpu = cuda.embed(texts), embedder.embed(texts)
    cosine = np.sum(on_gpu * on_cpu, axis=1)  # both L2-normalized
    assert cosine.min() >= 0.999, cosine


@pytest.mark.skipif(HAS_CUDA, reason="CUDA would start here")
@pytest.mark.filterwarnings("ignore:Specified provider")
def test_cuda_asked_for_but_not_started_is_an_error_naming_the_fix(tmp_path, monkeypatch):
    # onnxruntime starts a session on the CPU when the CUDA provider cannot load (its CUDA
    # libraries missing); asking for an unavailable provider does the same here.
    import paperboy.search.embedder as embedder_module

    monkeypatch.setattr(embedder_module, "execution_providers",
                        lambda device: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(ModelError, match=r"CUDA provider did not start.*paperboy\[gpu\]"):
        Embedder(cache_dir=tmp_path, device="cuda")


@pytest.mark.skipif(HAS_CUDA, reason="CUDA would start here")
@pytest.mark.filterwarnings("ignore:Specified provider")
def test_auto_falls_back_to_the_cpu_when_cuda_does_not_start(tmp_path, monkeypatch, embedder):
    import paperboy.search.embedder as embedder_module

    monkeypatch.setattr(embedder_module, "execution_providers",
                        lambda device: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    auto = Embedder(cache_dir=tmp_path, device="auto")
    assert auto.device == "cpu"
    assert auto.batch_size == 32  # the CPU's batches, not the GPU's
    text = "Sparse attention for long documents."
    assert np.allclose(auto.embed([text]), embedder.embed([text]), atol=1e-5)
