"""A polite HTTP client shared by the network sources (arXiv API, OAI-PMH, RSS, Hugging Face).

arXiv asks for at most one request every 3 seconds; the client keeps that gap per host, retries
5xx answers, 429s, timeouts and dropped connections with exponential backoff (honouring a
``Retry-After`` header, which arXiv's OAI endpoint sends with its 503s), and when a server stays
unreachable raises :class:`~paperboy.errors.SourceUnavailable` with a one-line message.

A connection that cannot even start (the name does not resolve, the port refuses) means no
network or a wrong URL, which waiting seconds rarely fixes: it gets :data:`CONNECT_RETRIES` quick
retries and then :class:`~paperboy.errors.SourceUnreachable`, so ``paperboy up`` offline serves
at once and the scheduler tries again on its own, later.

``sleep`` and ``clock`` are injectable so tests run without waiting.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from paperboy.errors import SourceUnavailable, SourceUnreachable

USER_AGENT = "paperboy/0.1 (self-hosted research-paper feed)"

#: Longest wait the client accepts from a Retry-After header.
MAX_RETRY_AFTER = 120.0
#: Retries, and the wait before each, when a connection cannot be opened (DNS, refused).
CONNECT_RETRIES = 1
CONNECT_RETRY_WAIT = 0.5


class PoliteClient:
    """GET with a minimum interval per host and retries; one instance per ingest run."""

    def __init__(
        self,
        *,
        interval: float = 3.0,
        retries: int = 4,
        timeout: float = 30.0,
        deadline: float = 120.0,
        max_bytes: int = 64 * 1024 * 1024,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.interval = max(0.0, interval)
        self.retries = max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._last: dict[str, float] = {}
        self._client = httpx.Client(
            timeout=timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
            transport=transport,
            # a fresh connection per request, so the deadline always knows the socket to cut
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    @classmethod
    def from_settings(cls, settings, **kwargs) -> "PoliteClient":
        return cls(
            interval=settings.request_interval,
            retries=settings.http_retries,
            timeout=settings.http_timeout,
            deadline=settings.http_deadline,
            max_bytes=settings.http_max_bytes,
            **kwargs,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            gap = self.interval - (self.clock() - last)
            if gap > 0:
                self.sleep(gap)
        self._last[host] = self.clock()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """A successful (2xx) response, or SourceUnavailable after the retries are spent.

        4xx answers other than 429 are not retried: they raise SourceUnavailable at once with the
        status, since asking again would not help.
        """
        host = urlsplit(url).netloc or url
        problem = ""
        hinted = 0.0  # the server's own Retry-After, when it gave one
        retried = refused = 0  # backoff retries spent; connections not opened, in a row
        while True:
            self._wait_turn(host)
            hinted = 0.0
            try:
                response = self._fetch(url, params)
            except DeadlineExceeded:
                problem = f"no complete answer within {self.deadline:g} s"
            except httpx.ConnectError as exc:  # no such host, connection refused
                self._last.pop(host, None)  # the server never saw it: no turn spent
                refused += 1
                if refused > CONNECT_RETRIES:
                    raise SourceUnreachable(
                        f"{host} unreachable: cannot connect ({_short(exc)}); check the network "
                        f"or the URL setting") from None
                self.sleep(CONNECT_RETRY_WAIT)
                continue
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TransportError as exc:
                problem = f"connection lost ({_short(exc)})"
            else:
                if response.status_code >= 500 or response.status_code == 429:
                    problem = f"HTTP {response.status_code}"
                    hinted = _retry_after(response.headers)
                elif response.status_code >= 400:
                    raise SourceUnavailable(
                        f"{host} answered HTTP {response.status_code} for {_shown(response.url)}"
                    )
                else:
                    return response
            refused = 0
            if retried >= self.retries:
                break
            retried += 1
            self.sleep(max(self.backoff * (2 ** (retried - 1)), hinted))
        tries = retried + 1
        raise SourceUnavailable(
            f"{host} unreachable: {problem} after {tries} attempt{'s' if tries > 1 else ''} "
            f"(check the network or the URL setting)"
        )

    def _fetch(self, url: str, params: Mapping[str, str] | None) -> httpx.Response:
        """The whole answer, read within ``deadline`` seconds in total (not per read: a server
        trickling a byte a second is cut off) and at most ``max_bytes`` once decompressed."""
        sockets: list = []

        def trace(event: str, info: dict) -> None:
            if event == "connection.connect_tcp.complete":
                stream = info.get("return_value")
                sock = stream.get_extra_info("socket") if stream is not None else None
                if sock is not None:
                    sockets.append(sock)

        expired = threading.Event()

        def cut() -> None:  # wakes a read blocked on the socket
            expired.set()
            for sock in sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(self.deadline, cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            with self._client.stream("GET", url, params=params,
                                     extensions={"trace": trace}) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise SourceUnavailable(
                            f"{urlsplit(url).netloc or url} sent more than "
                            f"{self.max_bytes // (1024 * 1024)} MB (decompressed) for "
                            f"{_shown(response.url)}; refusing the rest")
                    chunks.append(chunk)
                    if expired.is_set():
                        raise DeadlineExceeded
            headers = [(k, v) for k, v in response.headers.multi_items()
                       if k.lower() not in ("content-encoding", "content-length",
                                            "transfer-encoding")]
            return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                                  request=response.request)
        except httpx.TransportError:
            if expired.is_set():
                raise DeadlineExceeded from None
            raise
        finally:
            watchdog.cancel()


class DeadlineExceeded(Exception):
    """A request ran past the client's total deadline."""


def _retry_after(headers: httpx.Headers) -> float:
    raw = headers.get("Retry-After")
    if not raw:
        return 0.0
    try:
        return min(float(raw), MAX_RETRY_AFTER)
    except ValueError:
        return 0.0


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _shown(url: httpx.URL) -> str:
    text = str(url)
    return text if len(text) <= 160 else text[:157] + "..."
