"""Mail fixtures: a real SMTP server on loopback (aiosmtpd, in the test process) and settings
that point Paperboy at it."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Callable

import pytest

from paperboy.settings import load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class SinkHandler:
    """Collects every message; tests can make it refuse recipients or fail temporarily."""

    messages: list[Received] = field(default_factory=list)
    #: address -> (code, text) answered to RCPT TO
    refuse: dict[str, str] = field(default_factory=dict)
    #: answer "451" to DATA this many times before accepting
    temp_failures: int = 0
    #: called with the Received before the 250 reply (crash injection)
    on_data: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.refuse.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.temp_failures > 0:
                self.temp_failures -= 1
                return "451 4.3.0 try again later"
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        with self.lock:
            self.messages.append(received)
        if self.on_data is not None:
            self.on_data(received)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: SinkHandler


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    for _ in range(5):
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except OSError:  # the port was taken between probe and bind; try another
            continue
    else:  # pragma: no cover
        pytest.fail("could not start the SMTP server on loopback")
    yield SmtpServer("127.0.0.1", port, handler)
    controller.stop()


def mail_overrides(smtp: SmtpServer) -> dict:
    return dict(
        smtp_host=smtp.host, smtp_port=smtp.port, smtp_security="none", smtp_retries=2,
        smtp_connections=1,
        smtp_retry_delay=0.01, smtp_timeout=10, base_url="http://testserver",
        mail_from="Paperboy <digest@paperboy.test>", digest_papers=5,
    )


@pytest.fixture
def mail_settings(settings, smtp_server):
    """Settings on the backend under test (SQLite and PostgreSQL), mailing the loopback server."""
    values = {k: getattr(settings, k) for k in ("data_dir", "database_url")}
    values.update(mail_overrides(smtp_server))
    return load_settings(values, environ={})


@pytest.fixture
def sqlite_mail_settings(sqlite_settings, smtp_server):
    values = {"data_dir": sqlite_settings.data_dir}
    values.update(mail_overrides(smtp_server))
    return load_settings(values, environ={})


@dataclass
class MailApp:
    url: str
    settings: object
    store: object
    app: object


@pytest.fixture
def mail_app(mail_settings, smtp_server):
    """The real app served by uvicorn on loopback, its base_url set so mailed links point at it."""
    yield from _serve_app(mail_settings, smtp_server)


@pytest.fixture
def sqlite_mail_app(sqlite_mail_settings, smtp_server):
    yield from _serve_app(sqlite_mail_settings, smtp_server)


def _serve_app(mail_settings, smtp_server):
    import time

    import uvicorn

    from paperboy.storage import open_store
    from paperboy.web.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    values = {k: getattr(mail_settings, k) for k in ("data_dir", "database_url")}
    values.update(mail_overrides(smtp_server), base_url=url, ingest_interval_minutes=0)
    settings = load_settings(values, environ={})
    store = open_store(settings)
    app = create_app(settings, store, searcher=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield MailApp(url, settings, store, app)
    server.should_exit = True
    thread.join(10)
    store.close()
