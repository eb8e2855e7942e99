"""The polite client: interval per host, retries with backoff, one-line errors."""

from __future__ import annotations

import pytest

from paperboy.errors import SourceUnavailable
from paperboy.sources.http import PoliteClient
from tests.replay import closed_port_url


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_keeps_the_interval_between_requests_to_one_host(server):
    server.route("/a", (200, b"ok"))
    clock = FakeClock()
    with PoliteClient(interval=3.0, sleep=clock.sleep, clock=clock) as c:
        c.get(server.url + "/a")
        clock.now += 1.0  # one second of work between requests
        c.get(server.url + "/a")
        c.get(server.url + "/a")
    assert clock.slept == [pytest.approx(2.0), pytest.approx(3.0)]


def test_retries_503_with_backoff_then_succeeds(server, sleeps):
    server.route("/flaky", (503, b"busy"), (503, b"busy"), (200, b"<ok/>"))
    with PoliteClient(interval=0, retries=3, backoff=1.5, sleep=sleeps.append) as c:
        response = c.get(server.url + "/flaky")
    assert response.content == b"<ok/>"
    assert len(server.requests) == 3
    assert sleeps == [1.5, 3.0]  # exponential backoff


def test_honours_retry_after(server, sleeps):
    server.route("/oai", (503, b"", {"Retry-After": "7"}), (200, b"done"))
    with PoliteClient(interval=0, retries=2, backoff=1.0, sleep=sleeps.append) as c:
        assert c.get(server.url + "/oai").text == "done"
    assert sleeps == [7.0]


def test_gives_up_with_one_line_after_retries(server, sleeps):
    server.route("/down", (500, b"oops"))
    with PoliteClient(interval=0, retries=2, sleep=sleeps.append) as c:
        with pytest.raises(SourceUnavailable) as err:
            c.get(server.url + "/down")
    message = str(err.value)
    assert "HTTP 500" in message and "3 attempts" in message and "\n" not in message
    assert len(server.requests) == 3


def test_unreachable_server_is_one_line(sleeps):
    url = closed_port_url()
    with PoliteClient(interval=0, retries=1, sleep=sleeps.append) as c:
        with pytest.raises(SourceUnavailable) as err:
            c.get(url + "/api/query")
    message = str(err.value)
    assert message.startswith("127.0.0.1:") and "unreachable" in message and "cannot connect" in message
    assert "\n" not in message


def test_client_error_is_not_retried(server, sleeps):
    server.route("/missing", (404, b"no"))
    with PoliteClient(interval=0, retries=3, sleep=sleeps.append) as c:
        with pytest.raises(SourceUnavailable, match="HTTP 404"):
            c.get(server.url + "/missing")
    assert len(server.requests) == 1 and sleeps == []


def test_a_connection_that_cannot_open_is_not_retried_for_long():
    """Issue 19.5: a refused port or an unresolvable name costs one quick retry, not the
    backoff schedule (4 retries: 2+4+8+16 s), and keeps no politeness turn."""
    import httpx

    from paperboy.errors import SourceUnreachable

    for url, transport in ((closed_port_url() + "/api/query", None),
                           ("http://export.arxiv.invalid/api/query", httpx.MockTransport(
                               _raise(httpx.ConnectError("[Errno -2] Name or service not known"))))):
        clock = FakeClock()
        with PoliteClient(interval=3.0, retries=4, sleep=clock.sleep, clock=clock,
                          transport=transport) as c:
            with pytest.raises(SourceUnreachable) as err:
                c.get(url)
        assert clock.slept == [0.5], url
        assert isinstance(err.value, SourceUnavailable) and err.value.exit_code == 4
        assert "cannot connect" in str(err.value) and "\n" not in str(err.value)


def test_a_dropped_connection_is_still_retried_with_backoff():
    import httpx

    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) < 3:
            raise httpx.RemoteProtocolError("Server disconnected")
        return httpx.Response(200, text="ok")

    clock = FakeClock()
    with PoliteClient(interval=0, retries=4, backoff=1.5, sleep=clock.sleep, clock=clock,
                      transport=httpx.MockTransport(handler)) as c:
        assert c.get("http://example.org/x").text == "ok"
    assert clock.slept == [1.5, 3.0]


def _raise(exc):
    def handler(request):
        raise exc
    return handler
