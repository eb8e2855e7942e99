"""A local HTTP server that replays recorded responses (the network edge of the sources' tests).

Routes match a path and optionally query parameters; each route serves its responses in order
and then keeps repeating the last one, so "503 then 200" is ``[(503, b""), (200, body)]``.
Every request is recorded (path + query parameters) for assertions.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Route:
    path: str
    responses: list[tuple]
    match: Callable[[dict], bool] | None = None
    served: int = 0

    def next(self) -> tuple:
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


@dataclass
class ReplayServer:
    routes: list[Route] = field(default_factory=list)
    requests: list[tuple[str, dict]] = field(default_factory=list)

    def route(self, path: str, *responses, match: Callable[[dict], bool] | None = None) -> Route:
        """Serve ``responses`` (``(status, body)`` or ``(status, body, headers)``) at ``path``;
        a callable body writes the raw HTTP answer to the socket file itself."""
        r = Route(path, list(responses), match)
        self.routes.insert(0, r)  # later routes win, so tests can override
        return r

    def start(self) -> "ReplayServer":
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server naming
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                replay.requests.append((parts.path, params))
                for route in replay.routes:
                    if route.path == parts.path and (route.match is None or route.match(params)):
                        status, body, *rest = route.next()
                        headers = rest[0] if rest else {}
                        break
                else:
                    status, body, headers = 404, b"not found", {}
                if callable(body):  # writes the whole raw answer itself (e.g. slowly)
                    try:
                        body(self.wfile)
                    except OSError:  # the client gave up
                        pass
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A URL on loopback where nothing listens (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
