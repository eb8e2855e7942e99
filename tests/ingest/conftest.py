"""Fixtures for the ingest tests: a replay server and a polite client that never waits."""

from __future__ import annotations

import pytest

from paperboy.sources.http import PoliteClient
from tests.replay import ReplayServer


@pytest.fixture
def server():
    s = ReplayServer().start()
    yield s
    s.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps):
    """Real HTTP, fake sleep: the waits it would have made are recorded in ``sleeps``."""
    c = PoliteClient(interval=3.0, retries=2, timeout=5.0, sleep=sleeps.append)
    yield c
    c.close()
