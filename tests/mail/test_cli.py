"""`paperboy digest ...` as cron runs it: real processes, SIGKILL in the middle of a send, two
processes at once, dry run, preview, status, and configuration errors (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from paperboy.mail.digest import local_today
from paperboy.mail.service import MailService
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.builders import make_listing, make_paper
from tests.mail.test_digest import confirmed


def cli_env(settings, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    for name in ("data_dir", "database_url", "smtp_host", "smtp_port", "smtp_security", "smtp_connections",
                 "smtp_retries", "smtp_retry_delay", "base_url", "mail_from"):
        env[f"PAPERBOY_{name.upper()}"] = str(getattr(settings, name))
    env.update(extra)
    return env


def paperboy(settings, *args, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "paperboy.cli.main", *args],
                            env=cli_env(settings, **extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(settings, *args, **extra) -> subprocess.CompletedProcess:
    proc = paperboy(settings, *args, **extra)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _populate(settings):
    """Eight confirmed daily subscribers and yesterday's papers."""
    store = open_store(settings)
    service = MailService(settings, store)
    emails = []
    for i in range(8):
        msg = service.request_subscription(f"cron{i}@example.org")
        service.confirm(re.search(r"/mail/confirm/(\S+)", msg.get_body(("plain",)).get_content()).group(1))
        emails.append(f"cron{i}@example.org")
    day = local_today(settings) - timedelta(days=1)
    store.papers.upsert([make_paper(title=f"Cron paper {i}", listing=make_listing(listed_on=day, upvotes=i))
                         for i in range(4)], "hf")
    return store, emails


@pytest.fixture
def populated(mail_settings):
    store, emails = _populate(mail_settings)
    yield store, emails
    store.close()


@pytest.fixture
def sqlite_populated(sqlite_mail_settings):
    """The same on SQLite only, for checks of CLI output that do not depend on the database."""
    store, emails = _populate(sqlite_mail_settings)
    yield store, emails
    store.close()


def digest_counts(smtp_server) -> Counter:
    return Counter(a for m in smtp_server.handler.messages
                   if "digest" in m.message["Subject"] for a in m.rcpt_tos)


def test_sigkill_during_the_smtp_exchange_then_rerun(mail_settings, populated, smtp_server):
    store, emails = populated
    state = {"proc": None, "seen": 0}

    def kill_on_third(received):
        state["seen"] += 1
        if state["seen"] == 3:  # the server has the message; the client dies before the reply
            os.kill(state["proc"].pid, signal.SIGKILL)

    smtp_server.handler.on_data = kill_on_third
    state["proc"] = paperboy(mail_settings, "digest", "send", "--period", "daily")
    state["proc"].communicate(timeout=120)
    assert state["proc"].returncode == -signal.SIGKILL
    smtp_server.handler.on_data = None
    assert sum(digest_counts(smtp_server).values()) == 3

    rerun = run(mail_settings, "digest", "send", "--period", "daily")
    assert rerun.returncode == 0, rerun.stderr
    assert "sent 5" in rerun.stdout
    assert digest_counts(smtp_server) == Counter({e: 1 for e in emails})
    rows = Counter(r["status"] for r in store.subscriptions.deliveries())
    assert rows == Counter({"sent": 7, "sending": 1})  # the one killed mid-exchange: not resent
    status = run(mail_settings, "digest", "status")
    assert "sending 1" in status.stdout and "sent 7" in status.stdout
    # A third run has nothing left to do.
    assert "sent 0" in run(mail_settings, "digest", "send").stdout
    assert sum(digest_counts(smtp_server).values()) == 8


def test_two_cron_processes_at_once(mail_settings, populated, smtp_server):
    store, emails = populated
    procs = [paperboy(mail_settings, "digest", "send", "--period", "daily") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert digest_counts(smtp_server) == Counter({e: 1 for e in emails})
    sent = [int(re.search(r"sent (\d+)", out).group(1)) for out, _ in outputs]
    assert sum(sent) == 8


def test_dry_run_preview_and_status(sqlite_mail_settings, sqlite_populated, smtp_server):
    mail_settings = sqlite_mail_settings
    store, emails = sqlite_populated
    dry = run(mail_settings, "digest", "send", "--dry-run")
    assert dry.returncode == 0 and "would send 8" in dry.stdout
    assert digest_counts(smtp_server) == Counter() and store.subscriptions.deliveries() == []
    preview = run(mail_settings, "digest", "preview", emails[0])
    assert preview.returncode == 0
    assert "Subject: Paperboy daily digest" in preview.stdout and "Cron paper 3" in preview.stdout
    html = run(mail_settings, "digest", "preview", emails[0], "--format", "html")
    assert html.stdout.lstrip().startswith("<!doctype html>")
    missing = run(mail_settings, "digest", "preview", "nobody@example.org")
    assert missing.returncode == 1 and missing.stderr.startswith("error: no subscriber")
    assert "Traceback" not in missing.stderr
    assert run(mail_settings, "digest", "preview", "not an address").returncode == 2
    assert digest_counts(smtp_server) == Counter()


def test_smtp_configuration_error_is_one_line(sqlite_mail_settings, sqlite_populated, smtp_server):
    mail_settings = sqlite_mail_settings
    # The loopback server offers no STARTTLS: asking for it is a configuration error, no bounce.
    result = run(mail_settings, "digest", "send", PAPERBOY_SMTP_SECURITY="starttls")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "STARTTLS" in result.stderr
    assert "Traceback" not in result.stderr
    store, emails = sqlite_populated
    assert all(s.bounce_count == 0 for s in (store.subscriptions.get_by_email_key(e) for e in emails))
    # The claimed digest was deferred, so a corrected run sends everything.
    fixed = run(mail_settings, "digest", "send")
    assert fixed.returncode == 0 and "sent 8" in fixed.stdout


def test_digest_from_the_cli_uses_the_configured_time_zone(mail_settings, smtp_server):
    """``digest send`` from cron cuts days in PAPERBOY_TIMEZONE, as the web app does: at UTC+14,
    yesterday's local noon is the UTC day before, and 02:00 today is still yesterday in UTC."""
    zone = "Pacific/Kiritimati"
    local = load_settings({"data_dir": mail_settings.data_dir, "timezone": zone}, environ={})
    yesterday = local_today(local) - timedelta(days=1)
    tz = ZoneInfo(zone)

    def utc(day, hour):
        return datetime.combine(day, time(hour), tz).astimezone(timezone.utc).replace(tzinfo=None)

    store = open_store(mail_settings)
    try:
        confirmed(MailService(mail_settings, store), "zone@example.org")
        store.papers.upsert([
            make_paper(title="Published at local noon yesterday", published=utc(yesterday, 12)),
            make_paper(title="Published at 02:00 local today",
                       published=utc(yesterday + timedelta(days=1), 2)),
        ], "arxiv")
    finally:
        store.close()
    result = run(mail_settings, "digest", "send", PAPERBOY_TIMEZONE=zone)
    assert result.returncode == 0, result.stderr
    today = yesterday + timedelta(days=1)
    assert result.stdout.startswith(f"daily:{today:%Y-%m-%d}: sent 1,")  # the local day
    digest = smtp_server.handler.to("zone@example.org")[-1].message
    text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")
    titles = set(re.findall(r"^\* (.+)$", text.split("TRENDING YESTERDAY", 1)[1], re.M))
    assert titles == {"Published at local noon yesterday"}
    assert digest["Subject"].endswith(f"{yesterday:%b} {yesterday.day}, {yesterday:%Y}: "
                                      "1 trending paper")
