"""`paperboy search / similar / embed / index rebuild / eval beir`: search from the shell."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.errors import PaperboyError
from paperboy.plural import count_of, verb

MODE = click.Choice(["hybrid", "lexical", "dense"])


def _service(state: CliContext):
    return state.searcher


def _show_progress(state: CliContext) -> bool:
    """Progress bars on a terminal only, never with --quiet."""
    import sys

    return state.progress() is None and sys.stderr.isatty()


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PaperboyError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _with_papers(state: CliContext, hits) -> list[tuple]:
    """(hit, paper) pairs: search answers with ids; the papers are read here, once."""
    papers = {p.id: p for p in state.store.papers.get_many([h.id for h in hits])}
    return [(h, papers.get(h.id)) for h in hits]


def _hit_json(hit, p) -> dict:
    return {
        "id": hit.id,
        "title": p.title if p else None,
        "score": hit.score,
        "authors": p.authors if p else [],
        "categories": p.categories if p else [],
        "published": p.published.isoformat() if p and p.published else None,
        "published_approx": bool(p and p.published_approx),
        "explanation": hit.explanation,
    }


def _when(p) -> str:
    """The date column: the day, ``≈YYYY-MM`` for a month read off the arXiv id, else blank."""
    if p is None or p.published is None:
        return " " * 10
    return f"≈{p.published:%Y-%m}  " if p.published_approx else f"{p.published:%Y-%m-%d}"


def _print_hits(hits, as_json: bool) -> None:
    """``hits``: (hit, paper) pairs."""
    if as_json:
        click.echo(json.dumps([_hit_json(h, p) for h, p in hits], indent=2, ensure_ascii=False))
        return
    for n, (hit, p) in enumerate(hits, 1):
        when = _when(p)
        click.echo(f"{n:3}. {hit.id:<18} {when}  {hit.score:8.4f}  {p.title if p else ''}")
        ex = hit.explanation
        parts = []
        if ex.get("lexical_rank"):
            parts.append(f"keyword #{ex['lexical_rank']}")
        if ex.get("dense_rank"):
            parts.append(f"meaning #{ex['dense_rank']}")
        if ex.get("dense_similarity") is not None:
            parts.append(f"similarity {ex['dense_similarity']:.3f}")
        if ex.get("matched_terms"):
            parts.append("matched: " + " ".join(ex["matched_terms"]))
        if parts:
            click.echo(f"     {'; '.join(parts)}")


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--offset", default=0, type=click.IntRange(0, None), help="Skip this many hits.")
@click.option("--since", help="Published on or after this date (YYYY-MM-DD).")
@click.option("--until", help="Published on or before this date (YYYY-MM-DD).")
@click.option("--category", "categories", multiple=True, help="arXiv category (cs.CL) or archive (cs).")
@click.option("--author", "authors", multiple=True, help="Author name or last name.")
@click.option("--listed", is_flag=True, help="Only papers that appeared in a daily listing.")
@click.option("--mode", type=MODE, default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {id, title, score, ...}.")
@pass_ctx
def search(state: CliContext, query, limit, offset, since, until, categories, authors, listed,
           mode, as_json) -> None:
    """Find papers by words and meaning. QUERY may hold "quoted phrases", author:NAME,
    cat:CATEGORY, since:DATE and until:DATE."""
    from paperboy.query import QueryError, SearchFilters, describe_counts

    filters = SearchFilters(since=_date(since, "--since"), until=_date(until, "--until"),
                            categories=list(categories), authors=list(authors), listed_only=listed)
    try:
        results = _service(state).search(" ".join(query), filters, limit=limit, offset=offset,
                                         mode=mode)
    except QueryError as exc:
        raise PaperboyError(f"query: {exc}") from None
    if results.message:
        click.echo(f"note: {results.message}", err=True)
    if not results.hits and not as_json:
        click.echo("no papers match")
        return
    if not as_json:
        click.echo(describe_counts(results), err=True)
    _print_hits(_with_papers(state, results.hits), as_json)


@click.command()
@click.argument("paper_id")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--since", help="Only papers published on or after this date.")
@click.option("--until", help="Only papers published on or before this date.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {id, title, score, ...}.")
@pass_ctx
def similar(state: CliContext, paper_id, limit, since, until, as_json) -> None:
    """Papers closest in meaning to PAPER_ID (itself excluded)."""
    from paperboy.ids import normalize_paper_id

    key = normalize_paper_id(paper_id) or paper_id.strip()
    hits = _service(state).similar(key, limit, since=_date(since, "--since"),
                                   until=_date(until, "--until"))
    if not hits and not as_json:
        click.echo("no similar papers yet: run `paperboy embed` first", err=True)
    _print_hits(_with_papers(state, hits), as_json)


def announce_stale(svc) -> dict[str, int]:
    """Say which stored vectors the current model id replaces (another model, or another
    precision of the same model); the caller drops them once the new ones are in."""
    stale = svc.stale_models()
    if stale:
        old = ", ".join(f"{m} ({n} vectors)" for m, n in stale.items())
        click.echo(f"model changed: vectors of {old} are replaced by {svc.model_id}", err=True)
    return stale


@click.command()
@click.option("--batch", default=512, show_default=True, type=click.IntRange(1, 100_000),
              help="Papers per committed batch (an interrupted run resumes after the last one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Embedding processes to start on this machine (PostgreSQL only; each takes "
                   "an equal share of the cores). Workers on other machines may join: each "
                   "`paperboy embed` against the same PostgreSQL claims batches of its own.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Where the model runs (default: PAPERBOY_EMBEDDING_DEVICE, auto).")
@pass_ctx
def embed(state: CliContext, batch: int, workers: int, device: str | None) -> None:
    """Embed every paper that has no up-to-date vector (resumable).

    On PostgreSQL the work goes through a shared queue: each process claims disjoint batches,
    and a batch whose worker died is taken again once its claim expires
    (PAPERBOY_EMBED_CLAIM_SECONDS)."""
    if device:
        state.overrides["embedding_device"] = device
        state._settings = None
    svc = _service(state)
    if workers > 1 and svc.repo.dialect != "postgresql":
        raise click.UsageError("--workers needs PostgreSQL (PAPERBOY_DATABASE_URL): on SQLite "
                               "one process embeds; it uses every core already")
    stale = announce_stale(svc)
    if workers > 1:
        svc.embedder  # the model's graph is built (and cached) once, not by every worker
        done = _run_workers(state, workers, batch)
    elif svc.repo.dialect == "postgresql":
        done = _claim_and_embed(state, svc, batch)
    else:
        done = svc.embed_missing(progress=_show_progress(state), batch=batch)
    if stale:
        svc.repo.drop_embeddings_except(svc.model_id)
    click.echo(f"embedded {count_of(done, 'paper')} with {svc.model_id}; "
               f"{svc.vectors.size} vectors in the index")


def _claim_and_embed(state: CliContext, svc, batch: int) -> int:
    """One worker on the shared queue; prints its progress (count and rate) unless quiet."""
    import os
    import socket
    import time

    started = time.monotonic()

    def report(done: int) -> None:
        if not state.quiet:
            rate = done / max(time.monotonic() - started, 1e-9)
            click.echo(f"embed worker {os.getpid()}: {done} papers ({rate:.1f}/s)", err=True)

    return svc.embed_claimed(f"{socket.gethostname()}:{os.getpid()}", batch=batch,
                             claim_seconds=state.settings.embed_claim_seconds, on_batch=report)


def _run_workers(state: CliContext, workers: int, batch: int) -> int:
    """Start ``workers`` ``paperboy embed`` processes on this machine and wait for them all;
    the database URL travels in their environment, never on a command line."""
    import os
    import re
    import subprocess
    import sys

    settings = state.settings
    env = dict(os.environ, PAPERBOY_DATABASE_URL=settings.database_url,
               PAPERBOY_EMBEDDING_DEVICE=settings.embedding_device,
               PAPERBOY_EMBEDDING_THREADS=str(settings.embedding_threads
                                              or max(1, (os.cpu_count() or 1) // workers)))
    cmd = [sys.executable, "-m", "paperboy.cli.main", "--data-dir", str(settings.data_dir),
           *(["-q"] if state.quiet else []), "embed", "--batch", str(batch)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(workers)]
    done, failed = 0, 0
    for proc in procs:
        out, _ = proc.communicate()
        found = re.search(r"embedded ([\d,]+)", out or "")
        done += int(found.group(1).replace(",", "")) if found else 0
        failed += proc.returncode != 0
    if failed:
        raise click.ClickException(f"{failed} of {workers} embed workers failed (see above); "
                                   "run `paperboy embed` again to finish their batches")
    return done


@click.group()
def index() -> None:
    """Search index maintenance."""


@index.command("rebuild")
@pass_ctx
def index_rebuild(state: CliContext) -> None:
    """Re-derive the keyword index from the papers and reload the vector index.

    Run it after restoring a database backup or if search misses papers the store has; the
    keyword index otherwise follows every import by itself."""
    info = _service(state).rebuild(progress=_show_progress(state))
    click.echo(f"keyword index: {count_of(info['documents'], 'paper')}; vectors ({info['model']}): "
               f"{info['vectors']}" + (f"; {count_of(info['missing_vectors'], 'paper')} "
                                       f"{verb(info['missing_vectors'], 'needs', 'need')} `paperboy embed`"
                                      if info["missing_vectors"] else ""))


@index.command("sync")
@pass_ctx
def index_sync(state: CliContext) -> None:
    """Index the papers the keyword index does not hold yet (after an interrupted import; the
    server and `paperboy worker` do it by themselves every few seconds)."""
    from paperboy.search.keywords import IndexBusy

    done = _service(state).upkeep.catch_up(progress=_show_progress(state))
    if done is None:
        raise IndexBusy()
    click.echo(f"keyword index: {done} papers indexed")


@click.group("eval")
def eval_group() -> None:
    """Measure search quality."""


@eval_group.command("beir")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mode", "modes", type=MODE, multiple=True,
              help="Modes to evaluate (default: all three).")
@click.option("--split", default="test", show_default=True, help="qrels/<split>.tsv")
@click.option("--fusion", type=click.Choice(["score", "rrf"]), default=None,
              help="Fusion method for hybrid (default: the service default).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def eval_beir(state: CliContext, directory: Path, modes, split: str, fusion, as_json) -> None:
    """Import a BEIR dataset into a scratch store; print nDCG@10 and recall@100 per mode."""
    from paperboy.search.beir import evaluate_beir

    started = datetime.now()
    report = evaluate_beir(directory, modes=list(modes) or ["lexical", "dense", "hybrid"],
                           split=split, settings=state.settings,
                           progress=_show_progress(state), fusion=fusion)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{report['dataset']} ({split}): {report['queries']} queries, "
               f"{report['documents']} documents")
    for mode, m in report["modes"].items():
        click.echo(f"  {mode:8} nDCG@10 {m['ndcg@10']:.4f}  recall@100 {m['recall@100']:.4f}  "
                   f"({m['ms_per_query']:.1f} ms/query)")
    click.echo(f"  took {(datetime.now() - started).total_seconds():.0f}s")
