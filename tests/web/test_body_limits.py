"""Request bodies are capped before they are read (issue 14 case 3): 413 with a clear message."""

from __future__ import annotations

import socket

import httpx

from tests.builders import make_paper


def _raw_post(url: str, path: str, headers: dict) -> bytes:
    """Send only the head of a POST (no body at all) and return what the server answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


def test_a_huge_declared_body_is_refused_before_any_byte_is_read(live_server):
    answer = _raw_post(live_server.url, "/api/v1/papers/2410.20001/upvote",
                       {"Content-Type": "application/json", "Content-Length": "300000000"})
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_chunked_anonymous_body_is_cut_off_at_the_limit(live_server):
    def body():  # no Content-Length: the middleware counts what arrives
        for _ in range(200):  # 200 x 16 KB = 3.2 MB offered
            yield b"x" * (16 * 1024)

    r = httpx.post(live_server.url + "/api/v1/papers/2410.20001/upvote", content=body(),
                   headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413
    assert r.json()["error"].startswith("request body too large: the limit here is 64 KB")


def test_signed_in_limits_json_and_uploads(client, app):
    store = app.state.store
    user = store.accounts.create_user("bodyuser", "body@example.org", "x" * 20)
    token, _ = store.accounts.create_api_token(user.id, "bot")
    auth = {"Authorization": f"Bearer {token}"}
    store.papers.upsert([make_paper(id="2410.29990")], "test")
    ok = client.post("/api/v1/papers/2410.29990/upvote", json={"upvoted": True}, headers=auth)
    assert ok.status_code == 200, ok.text
    big = client.post("/api/v1/papers/2410.29990/upvote", headers={**auth,
                      "Content-Type": "application/json"}, content=b" " * (1024 * 1024 + 1))
    assert big.status_code == 413 and "the limit here is 1 MB" in big.json()["error"]
    upload = client.post("/api/v1/papers/2410.29990/upvote", headers=auth,
                         files={"f": ("lib.bib", b"x" * (2 * 1024 * 1024))})
    assert upload.status_code != 413  # within the 20 MB upload limit (the route ignores it)
    anonymous = client.post("/signin", data={"login": "x" * 70_000})
    assert anonymous.status_code == 413 and "64 KB" in anonymous.text
