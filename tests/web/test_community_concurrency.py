"""50 clients upvote one paper at once against a live server (uvicorn, real HTTP), on SQLite and
PostgreSQL: no vote lost, none doubled, no "database is locked" ever reaches a client."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.community.web_helpers import any_app  # noqa: F401 - fixture
from tests.web.conftest import serve_in_thread

CLIENTS = 50


@pytest.fixture
def live(any_app):
    live, thread = serve_in_thread(any_app)
    yield live
    live.server.should_exit = True
    thread.join(10)


def _storm(url: str, tokens: list[str], method: str, body: dict | None, repeat: int = 1):
    """Every token sends ``repeat`` requests, all released at the same moment."""
    barrier = threading.Barrier(len(tokens) * repeat)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def worker(token: str) -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            r = client.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
            with lock:
                results.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens for _ in range(repeat)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return results


def test_fifty_concurrent_upvotes_lose_none_and_double_none(any_app, live):
    store = any_app.state.store
    pid = any_app.state.seed["hostile"]  # 99 imported upvotes
    tokens = []
    for i in range(CLIENTS):
        user = store.accounts.create_user(f"racer{i}", f"racer{i}@example.org", "$argon2id$unused")
        tokens.append(store.accounts.create_api_token(user.id, "race")[0])
    url = f"{live.url}/api/v1/papers/{pid}/upvote"

    # Each user votes twice at the same moment: 100 requests, 50 votes.
    results = _storm(url, tokens, "POST", {"upvoted": True}, repeat=2)
    assert len(results) == 2 * CLIENTS
    assert all(code == 200 for code, _ in results), [r for r in results if r[0] != 200][:3]
    assert not any("locked" in text for _, text in results)
    assert store.community.upvote_rows(pid) == CLIENTS
    counts = store.community.counts([pid])[pid]
    assert (counts.upvotes_local, counts.upvotes_imported, counts.upvotes) == (CLIENTS, 99, 99 + CLIENTS)
    assert httpx.get(f"{live.url}/api/v1/papers/{pid}/community").json()["upvotes_local"] == CLIENTS

    # All take their vote back at once: back to zero, the counter agrees with the rows.
    results = _storm(url, tokens, "DELETE", None)
    assert all(code == 200 for code, _ in results)
    assert store.community.upvote_rows(pid) == 0
    assert store.community.counts([pid])[pid].upvotes_local == 0
