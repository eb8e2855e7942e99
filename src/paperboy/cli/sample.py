"""`paperboy sample ...`: the sample shipped for a first run without network."""

from __future__ import annotations

import click

from paperboy.cli.context import CliContext, pass_ctx


@click.group()
def sample() -> None:
    """The sample data shipped with Paperboy (229 public Hugging Face / arXiv records), which
    `paperboy up` loads when the store is empty and arXiv cannot be reached."""


def load_into(state: CliContext, searcher) -> None:
    """Load the sample with its shipped vectors and say so (the caller brings the keyword
    index up to date and embeds what has no vector, with progress bars)."""
    from paperboy.ingest.sample import attach_vectors, load_sample

    report = load_sample(state.store, progress=state.progress())
    click.echo(f"sample: {report.new} sample papers loaded (a banner says so on every page; "
               "`paperboy sample remove` takes them out)")
    if searcher is not None:
        shipped = attach_vectors(state.store, searcher.model_id)
        if shipped:
            click.echo(f"sample: {shipped} shipped {searcher.model_id} vectors stored")


@sample.command("load")
@pass_ctx
def load(state: CliContext) -> None:
    """Load the sample now, index and embed it (progress bars)."""
    from paperboy.web.searching import build_searcher

    searcher = build_searcher(state.store, state.settings)
    load_into(state, searcher)
    if searcher is not None:
        show = state.progress() is not False
        searcher.upkeep.catch_up(progress=show)
        done = searcher.embed_missing(progress=show)
        if done:
            click.echo(f"embedded {done} papers")


@sample.command("remove")
@pass_ctx
def remove(state: CliContext) -> None:
    """Delete exactly the sample papers (those no real fetch also brought) with their
    listings, vectors and keyword index entries."""
    from paperboy.ingest.sample import remove_sample
    from paperboy.web.searching import build_searcher

    ids, doc_ids = remove_sample(state.store)
    searcher = build_searcher(state.store, state.settings)
    if searcher is not None:
        searcher.lexical.forget(doc_ids)
    click.echo(f"sample: removed {len(ids)} sample papers and their search index entries; "
               f"{state.store.papers.count()} papers left")
