"""`paperboy serve`, `paperboy up` and `paperboy worker`: run the web app and the scheduled jobs.

- serve: the ASGI app (built by the app factory) under uvicorn; ingest runs on a schedule in a
  background thread of the server (one process holds the scheduler lock).
- up: the first-run command: data directory, latest days from arXiv + Hugging Face, embeddings
  with a progress bar, then serve. Offline, it says so in one line and serves what it has.
- worker: only the scheduled jobs (for deployments that keep them out of the web processes).
"""

from __future__ import annotations

import os

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.errors import PaperboyError, SourceUnavailable
from paperboy.plural import count_of


class JobsFailed(PaperboyError):
    """``worker --once`` had failures (each already printed): status 4 when a source could not
    be reached, else the failure's own status (2 for an unexpected one)."""

    def __init__(self, failures: dict[str, Exception], total: int):
        codes = [getattr(exc, "exit_code", 2) for exc in failures.values()]
        unreachable = any(isinstance(exc, SourceUnavailable) for exc in failures.values())
        self.exit_code = 4 if unreachable else max(codes)
        super().__init__(f"{len(failures)} of {count_of(total, 'job')} failed ({', '.join(failures)}); "
                         "the next run tries again")


def _run_server(state: CliContext, host: str | None, port: int | None, workers: int,
                scheduler: bool) -> None:
    import uvicorn

    # the settings carry the address actually served: e-mails link to it when no base URL is set
    settings = state.settings.model_copy(update={"host": host or state.settings.host,
                                                 "port": port or state.settings.port})
    host, port = settings.host, settings.port
    _check_port(host, port)
    if not state.quiet:
        click.echo(f"serving http://{host}:{port} ({state.store.dialect}, "
                   f"{count_of(state.store.papers.count(), 'paper')}); Ctrl+C stops")
    if workers > 1:
        # Each worker process builds its own app from the environment (same settings).
        for key, value in state.overrides.items():
            if value is not None:
                os.environ[f"PAPERBOY_{key.upper()}"] = str(value)
        os.environ["PAPERBOY_HOST"], os.environ["PAPERBOY_PORT"] = host, str(port)
        if not scheduler:
            os.environ["PAPERBOY_INGEST_INTERVAL_MINUTES"] = "0"
        state.close()
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config("paperboy.web.app:app_from_env", factory=True, host=host,
                                port=port, workers=workers, proxy_headers=True,
                                log_level="warning" if state.quiet else "info")
        Multiprocess(config, sockets=[_listen_socket(host, port)]).run()
        return
    from paperboy.web.app import create_app

    app = create_app(settings, state.store, scheduler=scheduler)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning" if state.quiet else "info",
                    proxy_headers=True)
    except OSError as exc:
        raise PaperboyError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _check_port(host: str, port: int) -> None:
    """Fail in one line (exit 2) when the address is taken, before building anything."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PaperboyError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            raise PaperboyError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                "(choose another --port or stop the other server)") from None


def _listen_socket(host: str, port: int):
    """The shared listening socket for worker processes.

    Created with ``proto=IPPROTO_TCP`` (uvicorn's own has proto 0): asyncio only sets
    TCP_NODELAY on connections whose socket says TCP, and without it every keep-alive response
    waits ~40 ms for a delayed ACK (Nagle).
    """
    import socket

    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                      proto=socket.IPPROTO_TCP)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(addr)
    sock.set_inheritable(True)
    return sock


_host = click.option("--host", help="Interface to listen on (default 127.0.0.1; env PAPERBOY_HOST).")
_port = click.option("--port", type=click.IntRange(1, 65535),
                     help="Port (default 8000; env PAPERBOY_PORT).")
_workers = click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                        help="Server processes (use several behind a reverse proxy, on PostgreSQL).")
_no_schedule = click.option("--no-schedule", is_flag=True,
                            help="Do not run scheduled ingest in the server (use `paperboy worker`).")


@click.command()
@_host
@_port
@_workers
@_no_schedule
@pass_ctx
def serve(state: CliContext, host: str | None, port: int | None, workers: int,
          no_schedule: bool) -> None:
    """Serve the web app and the APIs."""
    _run_server(state, host, port, workers, scheduler=not no_schedule)


@click.command()
@_host
@_port
@_workers
@click.option("--days", type=click.IntRange(1, 30), help="Days to fetch (default: setting fetch_days).")
@click.option("--offline", is_flag=True, help="Do not fetch; serve what the store holds.")
@_no_schedule
@pass_ctx
def up(state: CliContext, host: str | None, port: int | None, workers: int, days: int | None,
       offline: bool, no_schedule: bool) -> None:
    """Initialize, fetch the latest papers, embed them, and serve. An empty store that could
    not fetch anything gets the sample shipped with Paperboy (`paperboy sample remove`)."""
    settings = state.settings
    store = state.store
    click.echo(f"data directory: {settings.data_dir} ({store.dialect}, "
               f"{count_of(store.papers.count(), 'paper')})")
    from paperboy.web.searching import build_searcher

    searcher = build_searcher(store, settings)
    fetched = _fetch(state, days) if not offline else False
    if not fetched and store.papers.count() == 0:
        from paperboy.cli.sample import load_into

        load_into(state, searcher)  # a first run without network: a real sample, not "0 papers"
    if searcher is not None:
        searcher.upkeep.catch_up(progress=state.progress() is not False)
    if searcher is not None and hasattr(searcher, "embed_missing"):
        from paperboy.cli.search import announce_stale

        try:
            stale = announce_stale(searcher)
            done = searcher.embed_missing(progress=state.progress() is not False)
            if done:
                click.echo(f"embedded {count_of(done, 'paper')}")
            if stale:
                searcher.repo.drop_embeddings_except(searcher.model_id)
        except Exception as exc:  # a missing model must not keep the site down
            click.echo(f"embedding skipped: {exc} (run `paperboy embed` later)", err=True)
    _run_server(state, host, port, workers, scheduler=not no_schedule)


def _fetch(state: CliContext, days: int | None) -> bool:
    """Fetch the latest papers; False when a source could not be reached."""
    from paperboy.ingest.jobs import fetch_latest
    from paperboy.errors import SourceUnavailable

    settings = state.settings
    # No per-batch listener: the caller brings the keyword index up to date and embeds
    # everything new right after, each behind one progress bar.
    listeners: list = []
    click.echo(f"fetching the last {count_of(days or settings.fetch_days, 'day')} of "
               f"{' '.join(settings.categories)} from arXiv and Hugging Face...")
    try:
        reports = fetch_latest(state.store, settings, days=days, categories=settings.categories,
                               progress=state.progress(), listeners=listeners)
    except SourceUnavailable as exc:
        click.echo(f"offline: {exc}; serving the {count_of(state.store.papers.count(), 'paper')} "
                   "already stored")
        return False
    for report in reports or []:
        click.echo(report.summary())
    return True


@click.command()
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron).")
@pass_ctx
def worker(state: CliContext, once: bool) -> None:
    """Run the scheduled jobs (ingest, digests) without serving pages."""
    from paperboy.jobs.scheduler import Scheduler
    from paperboy.web.searching import build_searcher

    sched = Scheduler(state.settings, state.store, build_searcher(state.store, state.settings))
    if once:
        for job in sched.jobs:
            sched.run_job(job, log_failure=False)  # reported here, once
            status = f"failed: {sched.errors[job.name]}" if job.name in sched.errors else "done"
            click.echo(f"{job.name}: {status}")
        if sched.failures:
            raise JobsFailed(sched.failures, len(sched.jobs))
        return
    active = [j.name for j in sched.jobs if j.every(state.settings) > 0]
    if not active:
        raise PaperboyError("no scheduled jobs enabled (PAPERBOY_INGEST_INTERVAL_MINUTES is 0)")
    click.echo(f"worker running {', '.join(active)}; Ctrl+C stops")
    try:
        sched.run_forever()
    except RuntimeError as exc:
        raise PaperboyError(str(exc)) from None
