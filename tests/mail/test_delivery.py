"""Delivery against real SMTP servers on loopback: auth, failure kinds, retries with backoff."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

from paperboy.mail.delivery import (
    Mailer,
    MailConfigError,
    OutboxTransport,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
)
from tests.mail.conftest import SinkHandler, free_port


def _msg(to="reader@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Paperboy <digest@paperboy.test>"
    msg["To"] = to
    msg["Subject"] = "Hello"
    msg.set_content("Body text")
    return msg


@pytest.fixture
def auth_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"paperboy" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True,
                            auth_exclude_mechanism=["LOGIN"])
    controller.start()
    yield port, handler
    controller.stop()


def test_smtp_auth_success_and_refused_login(auth_server):
    port, handler = auth_server
    good = Mailer(SmtpTransport("127.0.0.1", port, "none", "paperboy", "s3cret", timeout=5))
    good.send(_msg())
    good.close()
    (received,) = handler.messages
    assert email.message_from_bytes(received.data, policy=default)["Subject"] == "Hello"
    bad = Mailer(SmtpTransport("127.0.0.1", port, "none", "paperboy", "wrong", timeout=5))
    with pytest.raises(MailConfigError, match="refused the login of 'paperboy'"):
        bad.send(_msg())
    # Without credentials the server refuses MAIL FROM (530): a configuration problem, not a bounce.
    anonymous = Mailer(SmtpTransport("127.0.0.1", port, "none", timeout=5), retries=0)
    with pytest.raises(MailConfigError, match="refused the sender"):
        anonymous.send(_msg())
    assert len(handler.messages) == 1


def test_failure_kinds_and_backoff(smtp_server):
    handler = smtp_server.handler
    handler.refuse["gone@example.org"] = "550 5.1.1 mailbox unavailable"
    handler.refuse["full@example.org"] = "452 4.2.2 mailbox full"
    delays: list[float] = []
    mailer = Mailer(SmtpTransport(smtp_server.host, smtp_server.port, "none", timeout=5),
                    retries=3, retry_delay=0.5, sleep=delays.append)
    with pytest.raises(PermanentFailure, match="550"):
        mailer.send(_msg("gone@example.org"))
    assert delays == []  # a bounce is never retried
    with pytest.raises(TemporaryFailure, match="452"):
        mailer.send(_msg("full@example.org"))
    assert delays == [0.5, 1.0, 2.0]  # exponential backoff, then give up
    delays.clear()
    handler.temp_failures = 2
    mailer.send(_msg("fine@example.org"))  # the same connection recovers after two 451s
    assert delays == [0.5, 1.0] and [m.rcpt_tos for m in handler.messages] == [["fine@example.org"]]
    mailer.close()


def test_unreachable_server_is_temporary():
    port = free_port()  # nothing listens there
    delays: list[float] = []
    mailer = Mailer(SmtpTransport("127.0.0.1", port, "none", timeout=2), retries=2,
                    retry_delay=0.1, sleep=delays.append)
    with pytest.raises(TemporaryFailure, match="cannot connect"):
        mailer.send(_msg())
    assert delays == [0.1, 0.2]


def test_bad_security_setting_is_a_config_error():
    with pytest.raises(MailConfigError, match="smtp_security"):
        SmtpTransport("127.0.0.1", 25, "ssl3")


def test_outbox_writes_whole_files(tmp_path):
    mailer = Mailer(OutboxTransport(tmp_path / "outbox"))
    for i in range(3):
        mailer.send(_msg(f"r{i}@example.org"))
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 3 and all(f.suffix == ".eml" for f in files)
    tos = sorted(email.message_from_bytes(f.read_bytes(), policy=default)["To"] for f in files)
    assert tos == ["r0@example.org", "r1@example.org", "r2@example.org"]
