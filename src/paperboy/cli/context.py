"""What every CLI command shares: settings built from options, and a lazily opened store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when used: a command's --help needs neither
    from paperboy.settings import Settings
    from paperboy.storage import Store


@dataclass
class CliContext:
    overrides: dict[str, Any] = field(default_factory=dict)
    quiet: bool = False
    _settings: Settings | None = None
    _store: Store | None = None
    _searcher: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from paperboy.settings import load_settings

            self._settings = load_settings(self.overrides)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from paperboy.storage import open_store

            self._store = open_store(self.settings)
        return self._store

    @property
    def searcher(self):
        """The process's one SearchService; its ``upkeep`` is what keeps the indexes current."""
        if self._searcher is None:
            from paperboy.search.service import SearchService

            self._searcher = SearchService(self.store, self.settings)
        return self._searcher

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def progress(self) -> bool | None:
        """None lets the bar decide (shown on a terminal only); False when --quiet."""
        return False if self.quiet else None


pass_ctx = click.make_pass_decorator(CliContext)
