"""What the stored vectors of a configuration are called, known without loading the model.

Vectors made by different computations are never mixed in one index: each is stored under a
model id that names the model and, for the int8 path, the recipe (a different id means a
re-embed). The search and recommendation features both read vectors by this id, so it lives
below them.
"""

from __future__ import annotations

from typing import Callable

#: Suffix of the int8 path's model id: the recipe's version (bumped when the recipe changes the
#: vectors). The plain model name is the fp32 graph's; the old "+int8" (every product in int8,
#: per-tensor activation scales) is gone and its vectors are re-embedded.
INT8_RECIPE = "int8v2"
PRECISIONS = ("auto", "int8", "fp32")


def cuda_available() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def resolve_precision(precision: str, device: str) -> str:
    """``int8`` or ``fp32``: ``auto`` is int8 on the CPU and fp32 on a GPU (the int8 operators
    run on the CPU only): device cpu, cuda, or auto (cuda where onnxruntime has it)."""
    if precision not in PRECISIONS:
        raise ValueError(f"embedding precision {precision!r}: use auto, int8 or fp32")
    if precision != "auto":
        return precision
    if device == "auto":
        device = "cuda" if cuda_available() else "cpu"
    return "fp32" if device == "cuda" else "int8"


def model_id(model: str, precision: str) -> str:
    """The id vectors of ``model`` computed at ``precision`` (resolved) are stored under."""
    return f"{model}+{INT8_RECIPE}" if precision == "int8" else model


def store_precision(settings, has_vectors: Callable[[str], bool]) -> str:
    """The precision to compute at: the setting, or for ``auto`` the one whose vectors the
    store already holds for this model, so that an upgrade or a GPU machine joining CPU ones
    never makes a second kind of vectors (nor drops the first); with neither (or both) held,
    int8 on the CPU and fp32 on a GPU. ``has_vectors(model_id)``: the store's answer."""
    if settings.embedding_precision != "auto":
        return settings.embedding_precision
    held = [p for p in ("int8", "fp32") if has_vectors(model_id(settings.embedding_model, p))]
    if len(held) == 1:
        return held[0]
    return resolve_precision("auto", settings.embedding_device)


def configured_model_id(settings, has_vectors: Callable[[str], bool]) -> str:
    """The model id of the embedding settings in effect for a store (see ``store_precision``)."""
    return model_id(settings.embedding_model, store_precision(settings, has_vectors))
