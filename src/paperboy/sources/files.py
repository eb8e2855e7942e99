"""Opening input files: plain or gzip (by name or magic bytes), with one-line errors."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator, TextIO

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


def capped_lines(fh: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)`` of a binary stream; a line longer than ``limit`` bytes comes as
    ``(number, None)`` and is skipped without ever being held whole in memory."""
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # drop the rest of the overlong line, a chunk at a time
                rest = fh.readline(1024 * 1024)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, line


class CappedText:
    """Lines of a text stream for :mod:`csv`, counted; a line over ``limit`` characters raises
    :class:`LineTooLong` (after skipping it) instead of being read whole."""

    def __init__(self, fh: TextIO, limit: int) -> None:
        self.fh, self.limit, self.lineno = fh, limit, 0

    def __iter__(self) -> "CappedText":
        return self

    def __next__(self) -> str:
        line = self.fh.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.lineno += 1
        if len(line) > self.limit and not line.endswith("\n"):
            while True:
                rest = self.fh.readline(1024 * 1024)
                if not rest or rest.endswith("\n"):
                    break
            raise LineTooLong(self.lineno)
        return line


class LineTooLong(ValueError):
    """An input line over the size limit (its number is ``args[0]``)."""


def too_long(limit: int) -> str:
    return f"line longer than {limit:,} bytes; skipped"
