"""Tell a file's format from its name and first bytes (``paperboy ingest file --format auto``)."""

from __future__ import annotations

import json
from pathlib import Path

from paperboy.errors import PaperboyError
from paperboy.sources.files import STREAM_ERRORS, open_binary

FORMATS = ("arxiv-snapshot", "hf-daily", "csv", "jsonl")

#: Keys that only the arXiv metadata snapshot has together.
_SNAPSHOT_KEYS = {"authors_parsed", "versions", "update_date", "journal-ref"}


def detect_format(path: Path) -> str:
    """One of FORMATS; raises PaperboyError (one line) when the file does not say."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    with open_binary(path) as fh:
        try:
            head = fh.read(64 * 1024)
        except STREAM_ERRORS as exc:
            raise PaperboyError(f"{path}: unreadable ({exc or type(exc).__name__})") from None
    if name.endswith((".csv", ".tsv", ".tab")):
        return "csv"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise PaperboyError(f"{path}: the file is empty")
    if text[0] == "[":
        return "hf-daily"
    if text[0] == "{":
        first_line = text.split("\n", 1)[0]
        try:
            obj = json.loads(first_line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            if len(_SNAPSHOT_KEYS & obj.keys()) >= 2:
                return "arxiv-snapshot"
            if isinstance(obj.get("paper"), dict):
                return "hf-daily"
            return "jsonl"
        raise PaperboyError(
            f"{path}: starts like JSON but its first line is not one JSON object; "
            "give --format")
    first_line = text.split("\n", 1)[0]
    if "," in first_line or "\t" in first_line:
        return "csv"
    raise PaperboyError(
        f"{path}: cannot tell the format; give --format ({', '.join(FORMATS)})")
