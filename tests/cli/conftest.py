"""CLI test helpers: run `paperboy` in-process on the backend under test, and a replay server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from paperboy.cli.main import cli
from tests.replay import ReplayServer


@pytest.fixture
def replay_server():
    s = ReplayServer().start()
    yield s
    s.stop()


@pytest.fixture
def paperboy(settings, replay_server):
    """Invoke the CLI with the test's data dir / database and the replay server as sources."""
    env = {
        "PAPERBOY_ARXIV_API_URL": replay_server.url + "/api/query",
        "PAPERBOY_ARXIV_OAI_URL": replay_server.url + "/oai",
        "PAPERBOY_ARXIV_RSS_URL": replay_server.url + "/rss",
        "PAPERBOY_HF_BASE_URL": replay_server.url,
        "PAPERBOY_REQUEST_INTERVAL": "0",
        "PAPERBOY_HTTP_RETRIES": "1",
        "PAPERBOY_CONFIG": None,
    }
    base = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        base += ["--database-url", settings.database_url]

    def run(*args, extra_env=None):
        runner = CliRunner()
        return runner.invoke(cli, [*base, *map(str, args)], env={**env, **(extra_env or {})},
                             catch_exceptions=False)

    return run
