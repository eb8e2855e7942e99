"""Builders for test data: papers with sensible defaults, overridden per test, and data
directories holding a migrated store."""

from __future__ import annotations

import itertools
import shutil
from datetime import date, datetime
from pathlib import Path

from paperboy.records import Listing, Paper

_seq = itertools.count(1)


def make_paper(**overrides) -> Paper:
    n = next(_seq)
    values = dict(
        id=f"2410.{10000 + n:05d}",
        title=f"A study of thing number {n}",
        abstract=f"We study thing {n} and find it interesting.",
        authors=["Ada Lovelace", "Alan Turing"],
        categories=["cs.LG", "cs.AI"],
        primary_category="cs.LG",
        version=1,
        published=datetime(2024, 10, 20, 12, 0),
        updated=datetime(2024, 10, 20, 12, 0),
    )
    values.update(overrides)
    return Paper(**values)


def make_listing(**overrides) -> Listing:
    values = dict(source="hf", listed_on=date(2024, 10, 25), upvotes=3, comments=1,
                  submitter="akhaliq", organization=None)
    values.update(overrides)
    return Listing(**values)


def data_dir_from(template: Path, tmp_path: Path) -> Path:
    """``tmp_path/data`` holding a copy of a migrated SQLite database (``sqlite_template``)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(template, data_dir / template.name)
    return data_dir
