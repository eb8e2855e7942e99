"""Sub-commands are imported only when they run: each one's help works, a search in a fresh
process finds papers without loading what it does not use, and it writes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperboy.cli.main import LAZY_COMMANDS, cli, is_brief


def _paperboy(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperboy.cli.main", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env["PAPERBOY_DATA_DIR"] = str(data_dir)
    return env


def test_every_command_is_listed_and_has_help():
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0, top.output
    for name in LAZY_COMMANDS:
        assert f"\n  {name} " in top.output, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert result.output.startswith(f"Usage: cli {name} "), result.output


def test_unknown_command_is_still_a_usage_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2 and "No such command 'no-such-command'" in result.output


def test_brief_commands_are_told_apart():
    assert is_brief(["search", "x"]) and is_brief(["--data-dir", "d", "-q", "search", "x"])
    assert is_brief(["--data-dir=d", "similar", "2404.15574"]) and is_brief(["show", "x", "-q"])
    assert is_brief([]) and is_brief(["--help"]) and is_brief(["--version"])
    assert is_brief(["ingest", "--data-dir", "d", "-q", "--help"]) is False  # runs as ingest
    assert not is_brief(["ingest", "file", "x.jsonl"]) and not is_brief(["serve"])
    assert not is_brief(["-q", "--database-url", "sqlite://", "embed"])


def test_help_in_a_fresh_process_loads_no_command_module():
    probe = ("import sys, runpy; sys.argv = ['paperboy', 'search', '--help']\n"
             "try:\n    runpy.run_module('paperboy.cli.main', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('paperboy.cli.', 'sqlalchemy',"
             " 'numpy', 'onnxruntime'))), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          check=False)
    assert "Find papers by words and meaning" in proc.stdout, proc.stderr
    loaded = proc.stderr.strip()
    assert "paperboy.cli.search" in loaded
    for absent in ("paperboy.cli.ingest", "paperboy.cli.serve", "sqlalchemy", "numpy", "onnxruntime"):
        assert f"'{absent}" not in loaded, loaded


def _digest(data_dir: Path) -> dict[str, str]:
    """Contents of the database and the keyword index (SQLite's -shm/-wal come and go)."""
    files = [data_dir / "paperboy.db", *sorted((data_dir / "index").rglob("*"))]
    return {str(p.relative_to(data_dir)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in files if p.is_file() and not p.name.endswith(("-shm", "-wal", ".lock"))}


@pytest.fixture(scope="module")
def searchable(tmp_path_factory):
    """A data directory with the search corpus, indexed and embedded by the CLI itself."""
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from tests.search.conftest import corpus_papers

    data = tmp_path_factory.mktemp("lazy") / "data"
    with open_store(load_settings({"data_dir": data}, environ={})) as store:
        store.papers.upsert(corpus_papers(), source="arxiv")
    for args in (["-q", "index", "sync"], ["-q", "embed"]):
        proc = _paperboy(*args, env=_env(data))
        assert proc.returncode == 0, proc.stderr
    return data


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_search_in_a_fresh_process_finds_papers_and_writes_nothing(searchable, mode):
    before = _digest(searchable)
    proc = _paperboy("search", "--json", "--mode", mode, "-n", "3",
                     "which attention heads fetch facts from a long prompt", env=_env(searchable))
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert hits[0]["id"] == "2404.15574" and 1 < len(hits) <= 3  # dense stops at its cut-off
    assert hits[0]["title"]  # hydrated from the store
    assert _digest(searchable) == before


def test_other_brief_commands_in_a_fresh_process(searchable):
    env = _env(searchable)
    similar = _paperboy("similar", "--json", "-n", "2", "2404.15574", env=env)
    assert similar.returncode == 0, similar.stderr
    assert len(json.loads(similar.stdout)) == 2
    show = _paperboy("show", "2404.15574", env=env)
    assert show.returncode == 0 and "2404.15574" in show.stdout
    missing = _paperboy("show", "9999.99999", env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("error: no paper 9999.99999")
