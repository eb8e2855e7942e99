"""`paperboy digest ...`: send the e-mail digests (for cron), preview one, show delivery status.

Cron example (daily at 07:00 and the weekly one on Mondays, server time)::

    0 7 * * *  paperboy --data-dir /srv/paperboy digest send --period daily
    0 7 * * 1  paperboy --data-dir /srv/paperboy digest send --period weekly

Sending is idempotent per period (see :mod:`paperboy.mail.digest`): a second run the same day,
or two at once, sends nothing twice.
"""

from __future__ import annotations

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.errors import NotFound, PaperboyError

PERIOD = click.Choice(["daily", "weekly"])


def _searcher(state: CliContext):
    from paperboy.search.service import SearchService

    try:
        return SearchService(state.store, state.settings)
    except Exception as exc:  # noqa: BLE001 - digests go out without alerts rather than not at all
        click.echo(f"warning: search unavailable ({exc}); saved-search alerts are skipped", err=True)
        return None


@click.group()
def digest() -> None:
    """E-mail digests: trending papers and saved-search alerts for confirmed subscribers.

    With smtp_host set they go out over SMTP; otherwise they are written as .eml files to
    <data dir>/outbox.
    """


@digest.command("send")
@click.option("--period", type=PERIOD, default="daily", show_default=True,
              help="Which subscribers: those who chose daily or weekly digests.")
@click.option("--dry-run", is_flag=True, help="Compose everything, send and record nothing.")
@pass_ctx
def send(state: CliContext, period: str, dry_run: bool) -> None:
    """Send this period's digest to every confirmed subscriber who has not had it yet."""
    from paperboy.jobs.for_you import digest_picks
    from paperboy.mail.delivery import MailConfigError
    from paperboy.mail.digest import send_digests, stale_deliveries

    try:
        report = send_digests(state.settings, state.store, _searcher(state), period,
                              dry_run=dry_run, personal=digest_picks(state.store, state.settings))
    except MailConfigError as exc:
        raise PaperboyError(str(exc)) from None
    click.echo(report.summary())
    stale = stale_deliveries(state.store)
    if stale:
        click.echo(f"note: {len(stale)} digest(s) were left 'sending' by a run that stopped during "
                   "the SMTP exchange; they are not resent (at most once): see "
                   "`paperboy digest status`", err=True)


@digest.command("preview")
@click.argument("email")
@click.option("--period", type=PERIOD, default=None, help="Default: the subscriber's own.")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "eml"]), default="text",
              show_default=True)
@pass_ctx
def preview(state: CliContext, email: str, period: str | None, fmt: str) -> None:
    """Render the digest EMAIL would get now, without sending or recording anything."""
    from paperboy.jobs.for_you import digest_picks
    from paperboy.mail.addresses import InvalidAddress, normalize_email
    from paperboy.mail.digest import DigestJob

    try:
        _, key = normalize_email(email)
    except InvalidAddress as exc:
        raise PaperboyError(str(exc)) from None
    sub = state.store.subscriptions.get_by_email_key(key)
    if sub is None:
        raise NotFound(f"no subscriber {email}; subscribe on the site or POST /api/v1/subscriptions")
    job = DigestJob(state.settings, state.store, _searcher(state), period or sub.period,
                    personal=digest_picks(state.store, state.settings))
    (d,) = job.composer.compose([sub])
    if fmt == "eml":
        click.echo(job.builder.digest(d).data.decode("utf-8").replace("\r\n", "\n"))
        return
    subject, text, html = job.builder.render_digest(d)
    if fmt == "html":
        click.echo(html)
    else:
        click.echo(f"Subject: {subject}\nTo: {sub.email} ({sub.status})\n")
        click.echo(text)
    if d.is_empty:
        click.echo("note: nothing new for this subscriber; the job would not send this one", err=True)


@digest.command("status")
@click.option("--period", type=PERIOD, default="daily", show_default=True)
@pass_ctx
def status(state: CliContext, period: str) -> None:
    """Subscribers by state, and today's deliveries for the period."""
    from paperboy.mail.digest import local_today, period_key, stale_deliveries

    repo = state.store.subscriptions
    counts = repo.counts()
    click.echo("subscribers: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    key = period_key(period, local_today(state.settings))
    deliveries = repo.delivery_counts(key).by_status
    click.echo(f"{key}: " + (", ".join(f"{k} {v}" for k, v in sorted(deliveries.items()))
                             or "nothing sent yet"))
    for reason, n in repo.skip_reasons(key):
        click.echo(f"  not sent to {n} (nothing to send): {reason}")
    for row in stale_deliveries(state.store):
        click.echo(f"left sending: subscriber {row['subscriber_id']} {row['period_key']} "
                   f"message {row['message_id']} claimed {row['claimed_at']:%Y-%m-%d %H:%M} "
                   f"by {row['job_id']}")
