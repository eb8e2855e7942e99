"""The Store: one object that owns the engine and hands out repositories.

Everything that reads or writes the database goes through a repository hanging off the store
(``store.papers``, ...), so SQL lives in ``paperboy.storage`` only.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperboy.settings import Settings
from paperboy.storage import database

if TYPE_CHECKING:
    from paperboy.storage.accounts import AccountRepository
    from paperboy.storage.community import CommunityRepository
    from paperboy.storage.feeds import FeedRepository
    from paperboy.storage.papers import PaperRepository
    from paperboy.storage.search_index import SearchIndexRepository
    from paperboy.storage.signals import ReaderSignalRepository
    from paperboy.storage.subscriptions import SubscriptionRepository


class Store:
    """Each repository's module is imported when the repository is first used: a process that
    only searches never loads accounts, feeds or signals."""

    def __init__(self, engine: Engine, tz: str, fulltext_connections: int = 2):
        self.engine = engine
        self.tz = tz
        #: PostgreSQL: connections that compute an import batch's full-text vectors
        self.fulltext_connections = fulltext_connections

    @cached_property
    def papers(self) -> PaperRepository:
        from paperboy.storage.papers import PaperRepository

        return PaperRepository(self.engine, self.fulltext_connections)

    @cached_property
    def accounts(self) -> AccountRepository:
        from paperboy.storage.accounts import AccountRepository

        return AccountRepository(self.engine)

    @cached_property
    def community(self) -> CommunityRepository:
        from paperboy.storage.community import CommunityRepository

        return CommunityRepository(self.engine)

    @cached_property
    def subscriptions(self) -> SubscriptionRepository:
        from paperboy.storage.subscriptions import SubscriptionRepository

        return SubscriptionRepository(self.engine)

    @cached_property
    def search(self) -> SearchIndexRepository:
        from paperboy.storage.search_index import SearchIndexRepository

        return SearchIndexRepository(self.engine)

    @cached_property
    def feeds(self) -> FeedRepository:
        from paperboy.storage.feeds import FeedRepository

        return FeedRepository(self.engine, self.tz)

    @cached_property
    def signals(self) -> ReaderSignalRepository:
        from paperboy.storage.signals import ReaderSignalRepository

        return ReaderSignalRepository(self.engine)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        database.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(settings: Settings, migrate: bool = True) -> Store:
    """Connect to the configured database, creating/upgrading the schema unless told not to."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Configuration goes in here, once, for the CLI, the worker and the server alike: the feed's
    # days (and so the digests') are local days of the configured zone.
    store = Store(database.make_engine(settings.resolved_database_url), settings.timezone,
                  settings.pg_fulltext_connections)
    if migrate:
        store.migrate()
        # an import killed while its indexes were set aside leaves them missing: put them back
        store.papers.restore_indexes()
    return store
