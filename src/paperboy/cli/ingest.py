"""`paperboy ingest ...`: import papers from files and from arXiv / Hugging Face.

Every sub-command builds a record stream from one source and hands it to :func:`run_import`,
the single place that runs the pipeline, adds the index listeners, prints the summary and sets
the exit status (0, or 3 when some records were rejected).
"""

from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

import click

from paperboy.cli.context import CliContext, pass_ctx

FILE_FORMATS = ("auto", "arxiv-snapshot", "hf-daily", "csv", "jsonl")
_DAY = click.DateTime(formats=["%Y-%m-%d"])


def index_listeners(state: CliContext, embed: bool = False) -> list:
    """The search upkeep's listener (paperboy.search.upkeep): told the ids of new/changed papers
    after every stored batch, so every import keeps search current (the keyword index takes in
    every batch; with ``embed`` the changed papers are embedded at once, which suits small
    daily fetches, while bulk file imports leave embedding to ``paperboy embed``)."""
    return [state.searcher.upkeep.listener(embed=embed)]


def run_import(state: CliContext, items: Iterable, source: str, *, batch_size: int = 2000,
               embed: bool = False, exit_on_reject: bool = True):
    """Run one import through the pipeline: progress bar, rejects on stderr, summary, exit 3
    (unless ``exit_on_reject`` is False: the caller has more to do and exits itself)."""
    from paperboy.errors import SourceUnavailable
    from paperboy.ingest.pipeline import run_ingest

    try:
        report = run_ingest(
            state.store,
            items,
            source,
            batch_size=batch_size,
            progress=state.progress(),
            listeners=index_listeners(state, embed=embed),
            bulk_index_after=state.settings.bulk_index_after,
        )
    except SourceUnavailable as exc:
        partial = getattr(exc, "report", None)
        if partial is not None and partial.seen:  # what went in before the source failed
            click.echo(partial.summary() + "; stopped early, run the same command again to continue")
        raise
    click.echo(report.summary())
    if report.exit_code and exit_on_reject:
        sys.exit(report.exit_code)
    return report


def _client(state: CliContext):
    from paperboy.sources.http import PoliteClient

    return PoliteClient.from_settings(state.settings)


def _today() -> date:
    return datetime.now(timezone.utc).date()


@click.group()
def ingest() -> None:
    """Import papers. Exit status 3 means some records were rejected (each is reported)."""


@ingest.command("file")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FILE_FORMATS), default="auto", show_default=True,
              help="File format; auto looks at the name and first bytes.")
@click.option("--map", "mapping", metavar="FIELD=COLUMN,...",
              help="For csv/jsonl: which column fills which field, e.g. "
                   "title=title,abstract=summary,authors=author_list.")
@click.option("--id-prefix", metavar="P",
              help="Keep ids that are not arXiv ids as P:id (e.g. s2 -> s2:4983).")
@click.option("--date", "listed_on", type=_DAY,
              help="For hf-daily files: the listing date (default: from the file name).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=2000, show_default=True,
              help="Records stored per transaction.")
@pass_ctx
def ingest_file(state: CliContext, path: Path, fmt: str, mapping: str | None,
                id_prefix: str | None, listed_on: datetime | None, batch_size: int) -> None:
    """Import a file: arXiv metadata snapshot (JSON lines, .gz too), a saved Hugging Face
    daily_papers answer, or any CSV / JSON-lines file with a --map."""
    from paperboy.errors import NotFound, PaperboyError
    from paperboy.sources import hf_daily, snapshot, tabular
    from paperboy.sources.detect import detect_format

    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if id_prefix is not None and not re.fullmatch(r"[a-z][a-z0-9_\-]*", id_prefix):
        raise PaperboyError(f"--id-prefix {id_prefix!r}: use lower-case letters, digits, - or _ "
                            "(starting with a letter), e.g. s2")
    if fmt == "auto":
        fmt = detect_format(path)
    fields = tabular.parse_mapping(mapping)
    if fmt == "arxiv-snapshot":
        items, source = snapshot.read_snapshot(path), snapshot.SOURCE
    elif fmt == "hf-daily":
        day = listed_on.date() if listed_on else None
        items, source = hf_daily.read_file(path, day), hf_daily.SOURCE
    elif fmt == "csv":
        items, source = tabular.read_csv(path, fields, id_prefix), "csv"
    else:
        items, source = tabular.read_jsonl(path, fields, id_prefix), "jsonl"
    run_import(state, items, source, batch_size=batch_size)


@ingest.command("arxiv")
@click.option("--category", "categories", multiple=True, metavar="C",
              help="arXiv category (repeatable; default: the categories setting).")
@click.option("--since", type=_DAY, help="First submission day (default: fetch_days ago).")
@click.option("--until", type=_DAY, help="Last submission day (default: today, UTC).")
@click.option("--embed/--no-embed", default=True, show_default=True,
              help="Embed the new papers for semantic search right away.")
@pass_ctx
def ingest_arxiv(state: CliContext, categories: tuple[str, ...], since: datetime | None,
                 until: datetime | None, embed: bool) -> None:
    """Papers submitted to categories in a date range, from the arXiv API (3 s between pages)."""
    from paperboy.errors import PaperboyError
    from paperboy.ingest.jobs import arxiv_stream
    from paperboy.sources import arxiv_api

    last = until.date() if until else _today()
    first = since.date() if since else last - timedelta(days=max(1, state.settings.fetch_days) - 1)
    if first > last:
        raise PaperboyError(f"--since {first} is after --until {last}")
    cats = list(categories or state.settings.categories)
    with _client(state) as client:
        run_import(state, arxiv_stream(client, state.settings, cats, first, last),
                   arxiv_api.SOURCE, embed=embed)


@ingest.command("oai")
@click.option("--set", "set_spec", default="cs", show_default=True, help="OAI set, e.g. cs, math.")
@click.option("--from", "from_date", type=_DAY,
              help="Harvest records changed since this day (default: continue the stored cursor; "
                   "on a first harvest, the last fetch_days days).")
@click.option("--metadata-prefix", type=click.Choice(["arXiv", "arXivRaw"]), default="arXiv",
              show_default=True, help="arXivRaw adds every version and its date.")
@pass_ctx
def ingest_oai(state: CliContext, set_spec: str, from_date: datetime | None,
               metadata_prefix: str) -> None:
    """Incremental OAI-PMH harvest; the cursor is stored, so the next run continues."""
    from paperboy.sources import oai

    cursor = state.store.papers.get_state(oai.cursor_key(set_spec, metadata_prefix))
    start = from_date.date() if from_date else None
    if start is None and cursor is None:
        # A first harvest without --from takes the recent days, not the whole archive.
        start = _today() - timedelta(days=max(1, state.settings.fetch_days) - 1)
    with _client(state) as client:
        items = oai.harvest(client, state.settings.arxiv_oai_url, set_spec=set_spec,
                            metadata_prefix=metadata_prefix, from_date=start, cursor=cursor)
        run_import(state, items, oai.SOURCE)


@ingest.command("rss")
@click.argument("categories", nargs=-1, required=True)
@click.option("--embed/--no-embed", default=True, show_default=True,
              help="Embed the new papers for semantic search right away.")
@pass_ctx
def ingest_rss(state: CliContext, categories: tuple[str, ...], embed: bool) -> None:
    """Today's arXiv announcements (new, cross-list, replacement) of CATEGORY...; each paper is
    listed on the feed's day."""
    from paperboy.sources import rss

    with _client(state) as client:
        run_import(state, rss.fetch(client, state.settings.arxiv_rss_url, list(categories)),
                   rss.SOURCE, embed=embed)


@ingest.command("hf")
@click.option("--date", "day", type=_DAY, help="One day of Hugging Face daily papers.")
@click.option("--since", type=_DAY, help="Every day from this one to today.")
@click.option("--embed/--no-embed", default=True, show_default=True,
              help="Embed the new papers for semantic search right away.")
@pass_ctx
def ingest_hf(state: CliContext, day: datetime | None, since: datetime | None,
              embed: bool) -> None:
    """Hugging Face daily papers (upvotes, comments, submitter, organization) of some days,
    then their categories and other arXiv fields from the arXiv API (100 ids per request)."""
    from paperboy.errors import PaperboyError
    from paperboy.sources import hf_daily

    if day and since:
        raise PaperboyError("give --date or --since, not both")
    today = _today()
    if since:
        if since.date() > today:
            raise PaperboyError(f"--since {since.date()} is in the future")
        days = hf_daily.days_between(since.date(), today)
    else:
        days = [day.date() if day else today]
    from paperboy.ingest.jobs import arxiv_fields_stream
    from paperboy.sources import arxiv_api

    with _client(state) as client:
        listed = run_import(state, hf_daily.fetch(client, state.settings.hf_base_url, days),
                            hf_daily.SOURCE, embed=embed, exit_on_reject=False)
        items = arxiv_fields_stream(state.store, state.settings, client)
        filled = None
        if items is not None:
            filled = run_import(state, items, arxiv_api.SOURCE, embed=embed,
                                exit_on_reject=False)
    status = max(listed.exit_code, filled.exit_code if filled else 0)
    if status:
        sys.exit(status)
