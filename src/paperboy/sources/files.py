"""Opening input files: plain or gzip (by name or magic bytes), with one-line errors."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, TextIO

from paperboy.errors import NotFound, PaperboyError

GZIP_MAGIC = b"\x1f\x8b"

#: Errors a damaged compressed stream raises while it is read.
STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip; raises one-line PaperboyErrors."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if path.is_dir():
        raise PaperboyError(f"{path}: is a directory, not a file")
    try:
        if is_gzip(path):
            fh = gzip.open(path, "rb")
            try:
                fh.peek(1)
            except STREAM_ERRORS as exc:
                fh.close()
                raise PaperboyError(f"{path}: unreadable gzip file ({exc or type(exc).__name__})")
            return fh
        if path.suffix == ".gz":
            raise PaperboyError(f"{path}: named .gz but is not a gzip file")
        return open(path, "rb")
    except PermissionError:
        raise PaperboyError(f"{path}: permission denied") from None


def open_text(path: Path) -> TextIO:
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="replace", newline="")


def damaged(path: Path, exc: BaseException) -> str:
    """The one-line problem for a stream that broke while being read."""
    kind = "truncated" if isinstance(exc, EOFError) else "damaged"
    return f"{kind} file, reading stopped here ({exc or type(exc).__name__}) in {path}"
