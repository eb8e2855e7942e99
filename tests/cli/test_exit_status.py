"""Issue 19.4: every command exits as README's table says; each network command against a
refused port exits 4 with its one-line error printed once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.replay import closed_port_url

NETWORK_COMMANDS = [
    ["ingest", "arxiv", "--no-embed", "--category", "cs.CL"],
    ["ingest", "oai", "--set", "cs"],
    ["ingest", "rss", "cs.CL", "--no-embed"],
    ["ingest", "hf", "--no-embed"],
    ["worker", "--once"],
    ["embed"],  # a Hugging Face model id to download (PAPERBOY_EMBEDDING_MODEL, HF_ENDPOINT)
]


@pytest.fixture(scope="module")
def refused_env(tmp_path_factory) -> dict:
    from paperboy.settings import load_settings
    from paperboy.storage import open_store
    from tests.builders import make_paper

    dead = closed_port_url()
    data = tmp_path_factory.mktemp("exit") / "data"
    with open_store(load_settings({"data_dir": data}, environ={})) as store:
        store.papers.upsert([make_paper()], source="test")  # something to embed
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    env.update({
        "PAPERBOY_DATA_DIR": str(data),
        "PAPERBOY_ARXIV_API_URL": f"{dead}/api/query",
        "PAPERBOY_ARXIV_OAI_URL": f"{dead}/oai",
        "PAPERBOY_ARXIV_RSS_URL": f"{dead}/rss",
        "PAPERBOY_HF_BASE_URL": dead,
        "PAPERBOY_EMBEDDING_MODEL": "example-org/not-cached-model",
        "HF_ENDPOINT": dead, "HF_HOME": str(data.parent / "hf-home"),
    })  # default retries and request interval: a refused port must not wait on them
    return env


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperboy.cli.main", "-q", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", NETWORK_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_network_commands_exit_4_against_a_refused_port(refused_env, args):
    proc = _run(refused_env, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert "Traceback" not in out
    assert out.count("Connection refused") == 1, out  # the failure, printed once
    assert proc.stderr.startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, status", [
    (["show", "9999.99999"], 1),
    (["similar", "9999.99999"], 1),
    (["ingest", "file", "/nonexistent/papers.jsonl"], 1),
    (["user", "disable", "nobody"], 1),
    (["moderate", "hide-paper", "9999.99999"], 1),
    (["digest", "preview", "nobody@example.org"], 1),
    (["search", "x", "--since", "yesterday-ish"], 2),
    (["serve", "--port", "0"], 2),
    (["no-such-command"], 2),
    (["init"], 0),
], ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_other_commands_follow_the_table(refused_env, args, status):
    proc = _run(refused_env, *args)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
