"""The storage layer: the only code that talks to the database."""

from paperboy.storage.store import Store, open_store

__all__ = ["Store", "open_store"]
