"""`paperboy up` / `serve` / `worker` as a user runs them (subprocesses, real HTTP)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.web.conftest import seed_papers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir, dead_port) -> dict:
    env = dict(os.environ)
    env.update({
        "PAPERBOY_DATA_DIR": str(data_dir),
        # sources on a closed local port: "offline" without touching the network
        "PAPERBOY_ARXIV_API_URL": f"http://127.0.0.1:{dead_port}/api/query",
        "PAPERBOY_HF_BASE_URL": f"http://127.0.0.1:{dead_port}",
        "PAPERBOY_HTTP_RETRIES": "0",
        "PAPERBOY_HTTP_TIMEOUT": "2",
        "PAPERBOY_REQUEST_INTERVAL": "0",
        "PAPERBOY_INGEST_INTERVAL_MINUTES": "0",
        "PAPERBOY_EMBEDDING_MODEL": "/nonexistent-model",  # embedding is skipped with a note
    })
    return env


def _wait_for(url: str, proc, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"server exited with {proc.returncode}: {out}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer")


def test_up_offline_says_so_and_serves_the_store(tmp_path):
    data = tmp_path / "data"
    settings = load_settings({"data_dir": data}, environ={})
    with open_store(settings) as store:
        seed_papers(store)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "up", "--port", str(port), "--days", "1"],
        env=_env(data, _free_port()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        r = _wait_for(f"http://127.0.0.1:{port}/", proc)
        assert r.status_code == 200 and "13 papers" in r.text
        api = httpx.get(f"http://127.0.0.1:{port}/api/daily_papers?date=2024-10-24").json()
        assert len(api) == 12
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    lines = out.splitlines()
    offline = [line for line in lines if line.startswith("offline:")]
    assert len(offline) == 1, out
    assert "serving the 38 papers already stored" in offline[0]
    assert "Traceback" not in out


def test_serve_refuses_a_busy_port_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "paperboy.cli.main", "-q", "serve", "--port", str(port)],
            env=_env(tmp_path / "d", _free_port()), capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_worker_once_reports_each_job(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "paperboy.cli.main", "worker", "--once"],
        env=_env(tmp_path / "d", _free_port()), capture_output=True, text=True, timeout=120,
    )
    assert "ingest: failed:" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 4 and "jobs failed (ingest)" in proc.stderr  # a source: 4
    assert "Traceback" not in proc.stderr


def test_serve_with_two_workers(tmp_path):
    data = tmp_path / "data"
    with open_store(load_settings({"data_dir": data}, environ={})) as store:
        seed_papers(store)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "-q", "serve", "--port", str(port),
         "--workers", "2", "--no-schedule"],
        env=_env(data, _free_port()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/", proc).status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(20):
                r = client.get("/api/papers/2410.29999")
                assert r.status_code == 200 and r.json()["upvotes"] >= 99
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)


def test_listen_socket_is_tcp_so_nodelay_applies():
    import socket

    from paperboy.cli.serve import _listen_socket

    sock = _listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    finally:
        sock.close()


def test_up_fetches_embeds_and_serves(tmp_path):
    """The main-job command against replayed arXiv and Hugging Face answers."""
    from tests.replay import ReplayServer, fixture_bytes

    replay = ReplayServer().start()
    replay.route("/api/query", (200, fixture_bytes("arxiv_api/page1.xml")))
    replay.route("/api/daily_papers", (200, fixture_bytes("hf/daily_papers_2024-10-28.json")))
    env = _env(tmp_path / "data", _free_port())
    env.update({"PAPERBOY_ARXIV_API_URL": replay.url + "/api/query",
                "PAPERBOY_HF_BASE_URL": replay.url, "PAPERBOY_CATEGORIES": "cs.LG"})
    env.pop("PAPERBOY_EMBEDDING_MODEL")  # the bundled MiniLM
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperboy.cli.main", "up", "--port", str(port), "--days", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        home = _wait_for(f"http://127.0.0.1:{port}/", proc, timeout=180)
        assert home.status_code == 200 and 'data-paper-id="' in home.text
        paper = httpx.get(f"http://127.0.0.1:{port}/api/v1/papers/2410.19008").json()
        assert paper["id"] == "2410.19008" and paper["listings"]
        similar = httpx.get(f"http://127.0.0.1:{port}/api/v1/papers/2410.19008/similar").json()
        assert similar["indexed"] and similar["count"] >= 1  # embedded before serving
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        replay.stop()
    assert "fetching the last 1 day of cs.LG" in out
    assert "arxiv: " in out and " new" in out
    assert "embedded " in out
    assert "Traceback" not in out
