"""Bytes for fitted state: numpy arrays plus one JSON header in an ``.npz`` container.

Pickle is never used (``allow_pickle=False`` both ways): a cached model read back from the
database cannot run code. Every blob carries its kind and a format version, so a change of
layout is detected and the caller refits instead of reading garbage.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import numpy as np

from paperboy.errors import PaperboyError


class FormatError(PaperboyError):
    """Stored model bytes are not a Paperboy recommend blob of a readable kind and version."""


def pack(kind: str, version: int, meta: Mapping, arrays: Mapping[str, np.ndarray]) -> bytes:
    header = json.dumps({"kind": kind, "version": version, **meta}, ensure_ascii=False)
    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(header.encode("utf-8"), dtype=np.uint8),
             **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def unpack(data: bytes, kind: str, version: int) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` of a blob written by :func:`pack`; :class:`FormatError` otherwise."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("__header__").tobytes().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any corruption reads as one error
        raise FormatError(f"not a recommend {kind} blob ({type(exc).__name__}: {exc})"[:200]) \
            from None
    if meta.get("kind") != kind:
        raise FormatError(f"blob holds a {meta.get('kind')!r}, not a {kind!r}")
    if meta.get("version") != version:
        raise FormatError(f"{kind} blob format {meta.get('version')} is not {version}; refit it")
    return meta, arrays
