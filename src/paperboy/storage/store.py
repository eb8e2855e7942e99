"""The Store: one object that owns the engine and hands out repositories.

Everything that reads or writes the database goes through a repository hanging off the store
(``store.papers``, ...), so SQL lives in ``paperboy.storage`` only.
"""

from __future__ import annotations

from sqlalchemy import Engine

from paperboy.settings import Settings
from paperboy.storage import database
from paperboy.storage.accounts import AccountRepository
from paperboy.storage.community import CommunityRepository
from paperboy.storage.feeds import FeedRepository
from paperboy.storage.papers import PaperRepository
from paperboy.storage.signals import ReaderSignalRepository
from paperboy.storage.subscriptions import SubscriptionRepository
from paperboy.storage.search_index import SearchIndexRepository


class Store:
    def __init__(self, engine: Engine, tz: str, fulltext_connections: int = 2):
        self.engine = engine
        self.papers = PaperRepository(engine, fulltext_connections)
        self.accounts = AccountRepository(engine)
        self.community = CommunityRepository(engine)
        self.subscriptions = SubscriptionRepository(engine)
        self.search = SearchIndexRepository(engine)
        self.feeds = FeedRepository(engine, tz)
        self.signals = ReaderSignalRepository(engine)

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
