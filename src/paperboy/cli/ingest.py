"""`paperboy ingest ...`: import papers from files and from arXiv / Hugging Face."""

from __future__ import annotations

import click


@click.group()
def ingest() -> None:
    """Import papers. Exit status 3 means some records were rejected (each is reported)."""
