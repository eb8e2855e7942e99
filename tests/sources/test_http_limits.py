"""Network sources are bounded (issue 14 case 6): a total deadline per request, a cap on the
decompressed answer, OAI resumption-token loops stopped, the same limits for /submit."""

from __future__ import annotations

import gzip
import time
from datetime import date

import pytest

from paperboy.errors import SourceUnavailable
from paperboy.records import Paper, Reject
from paperboy.sources import oai
from paperboy.sources.http import PoliteClient
from tests.replay import fixture_bytes


def _trickle(head: bytes, body: bytes, gap: float):
    """A server that sends ``head`` at once, then the body a byte every ``gap`` seconds."""
    def write(wfile):
        wfile.write(head)
        wfile.flush()
        for n in range(len(body)):
            wfile.write(body[n:n + 1])
            wfile.flush()
            time.sleep(gap)
    return write


def _client(sleeps, **kwargs):
    return PoliteClient(interval=0, retries=0, timeout=5.0, sleep=sleeps.append, **kwargs)


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_trickling_server_is_cut_off_at_the_total_deadline(server, sleeps, where):
    body = b"x" * 100
    if where == "body":
        answer = _trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", body, 0.05)
    else:
        answer = _trickle(b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 100 + b"\r\n\r\n", 0.05)
    server.route("/slow", (200, answer))
    started = time.monotonic()
    with _client(sleeps, deadline=1.0) as client:
        with pytest.raises(SourceUnavailable, match="no complete answer within 1 s"):
            client.get(server.url + "/slow")
    assert time.monotonic() - started < 3.0  # per-read timeouts (5 s) never fired


def test_a_gzip_bomb_is_refused_at_the_decompressed_cap(server, sleeps):
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))  # 20 KB on the wire
    server.route("/bomb", (200, bomb, {"Content-Encoding": "gzip"}))
    with _client(sleeps, max_bytes=1024 * 1024) as client:
        with pytest.raises(SourceUnavailable, match=r"sent more than 1 MB \(decompressed\)"):
            client.get(server.url + "/bomb")
    small = gzip.compress(b"fine")
    server.route("/small", (200, small, {"Content-Encoding": "gzip"}))
    with _client(sleeps, max_bytes=1024 * 1024) as client:
        assert client.get(server.url + "/small").content == b"fine"


def test_oai_repeating_its_resumption_token_stops_with_one_line(server, client):
    page = fixture_bytes("oai/arXiv_page1.xml")  # ends with resumptionToken 6960524|1001
    server.route("/oai", (200, page))  # every answer: the same page, the same token
    items = list(oai.harvest(client, server.url + "/oai", set_spec="cs",
                             from_date=date(2024, 10, 20)))
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(server.requests) == 2
    assert len(rejects) == 1 and "gave resumption token '6960524|1001' a second time" in str(
        rejects[0])
    assert sum(isinstance(i, Paper) for i in items) == 4  # the records of both pages count


def test_submit_uses_the_same_limits(server, sleeps, tmp_path):
    from paperboy.community.submit import SubmitError, fetch_arxiv_paper
    from paperboy.settings import load_settings

    server.route("/api/query", (200, _trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n",
                                              b"x" * 500, 0.05)))
    settings = load_settings({"data_dir": tmp_path, "arxiv_api_url": server.url + "/api/query",
                              "http_deadline": 1.0, "http_retries": 0}, environ={})
    started = time.monotonic()
    with pytest.raises(SubmitError, match="could not be reached"):
        fetch_arxiv_paper(settings, "2410.00001")
    assert time.monotonic() - started < 3.0
