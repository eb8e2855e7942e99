"""The `paperboy` command: a click group whose sub-commands live in one module each, imported
only when that command runs (or a help lists it)."""

from __future__ import annotations

import gc
import importlib
import json
import sys
from pathlib import Path

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.errors import NotFound, PaperboyError
from paperboy.ids import normalize_paper_id
from paperboy.plural import count_of
from paperboy.settings import SettingsError, describe_settings


#: the group's own options, accepted anywhere on the line (``paperboy ingest file X -q``)
GLOBAL_FLAGS = ("-q", "--quiet")
GLOBAL_VALUED = ("--data-dir", "--database-url")


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the global options to the front, where click expects them, so they work after the
    sub-command too, as users type them. ``--`` ends the options (what follows is kept as is)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS or ("=" in arg and arg.split("=", 1)[0] in GLOBAL_VALUED):
            front.append(arg)
        elif arg in GLOBAL_VALUED and i + 1 < len(args):
            front += [arg, args[i + 1]]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


#: Sub-commands living in a module of their own: "module:attribute" by command name.
LAZY_COMMANDS = {
    "ingest": "paperboy.cli.ingest:ingest",
    "search": "paperboy.cli.search:search",
    "similar": "paperboy.cli.search:similar",
    "embed": "paperboy.cli.search:embed",
    "index": "paperboy.cli.search:index",
    "eval": "paperboy.cli.search:eval_group",
    "serve": "paperboy.cli.serve:serve",
    "up": "paperboy.cli.serve:up",
    "worker": "paperboy.cli.serve:worker",
    "digest": "paperboy.cli.digest:digest",
    "user": "paperboy.cli.users:user",
    "moderate": "paperboy.cli.users:moderate",
    "recommend": "paperboy.cli.recommend:recommend",
    "sample": "paperboy.cli.sample:sample",
}

#: Commands that run for a moment and exit: the cyclic garbage collector stays off for them.
BRIEF_COMMANDS = frozenset({"search", "similar", "show", "stats", "settings"})


class _Group(click.Group):
    """Turns expected errors into one line on stderr and a documented exit status; imports a
    sub-command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[cmd_name].split(":")
            found = getattr(importlib.import_module(module), attribute)
            self.add_command(found, cmd_name)
        return found

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = hoist_global_options(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (PaperboyError, SettingsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except KeyboardInterrupt:
            click.echo("interrupted; re-run the same command to resume", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Data directory (default ./paperboy-data; env PAPERBOY_DATA_DIR).")
@click.option("--database-url", help="Database URL (default: SQLite in the data directory).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.version_option(package_name="paperboy")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, database_url: str | None, quiet: bool) -> None:
    """Paperboy: your own daily research-paper feed, search and digests.

    The options below work before or after the sub-command (paperboy ingest file X -q).

    Exit status: 0 success, 1 not found, 2 usage or configuration error, 3 an import stored
    the good records but rejected some, 4 a source could not be reached.
    """
    state = CliContext(overrides={"data_dir": data_dir, "database_url": database_url}, quiet=quiet)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.command()
@pass_ctx
def init(state: CliContext) -> None:
    """Create the data directory and database (or upgrade it to the current schema)."""
    store = state.store
    click.echo(f"ready: {state.settings.data_dir} ({store.dialect}, "
               f"{count_of(store.papers.count(), 'paper')})")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def stats(state: CliContext, as_json: bool) -> None:
    """Counts of papers, sources, categories and listing days."""
    data = state.store.papers.stats()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"papers: {data['papers']}")
    for source, n in sorted(data["by_source"].items()):
        click.echo(f"  from {source}: {n}")
    if data["listing_days"]:
        click.echo(
            f"daily listings: {count_of(data['listing_days'], 'day')} "
            f"({data['first_listing_day']} .. {data['last_listing_day']})"
        )
    if data["top_categories"]:
        cats = ", ".join(f"{c} {n}" for c, n in data["top_categories"].items())
        click.echo(f"top categories: {cats}")


def _paper_json(paper, listings) -> dict:
    out = paper.stored_fields()
    out["published_approx"] = bool(out["published_approx"])
    for key in ("published", "updated"):
        if out[key] is not None:
            out[key] = out[key].isoformat()
    out["listings"] = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()
         if k not in ("paper_id", "first_seen_at", "last_seen_at")}
        for row in listings
    ]
    return out


@cli.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def show(state: CliContext, paper_id: str, as_json: bool) -> None:
    """Show one stored paper (arXiv id, arXiv URL, or prefix:id)."""
    key = normalize_paper_id(paper_id)
    if key is None:
        raise PaperboyError(f"{paper_id!r} is not an arXiv id (2410.17243) or a prefixed id (s2:123)")
    paper = state.store.papers.get(key)
    if paper is None:
        raise NotFound(f"no paper {key} in the store; import it first (paperboy ingest ...)")
    listings = state.store.papers.listings(key)
    if as_json:
        click.echo(json.dumps(_paper_json(paper, listings), indent=2, ensure_ascii=False))
        return
    click.echo(f"{paper.id}{'v' + str(paper.version) if paper.version else ''}  {paper.title}")
    click.echo(f"authors: {', '.join(paper.authors)}")
    if paper.categories:
        click.echo(f"categories: {', '.join(paper.categories)} (primary {paper.primary_category})")
    if paper.published_approx:
        click.echo(f"published: {paper.published:%Y-%m} (approximate: the month of the arXiv id)")
    elif paper.published:
        click.echo(f"published: {paper.published:%Y-%m-%d}"
                   + (f"  updated: {paper.updated:%Y-%m-%d}" if paper.updated else ""))
    for label, value in (("doi", paper.doi), ("journal-ref", paper.journal_ref),
                         ("comments", paper.comments), ("code", paper.code_url),
                         ("project", paper.project_url), ("organization", paper.organization),
                         ("abs", paper.abs_url), ("pdf", paper.pdf_url)):
        if value:
            click.echo(f"{label}: {value}")
    for row in listings:
        extra = f", {row['upvotes']} upvotes" if row["upvotes"] is not None else ""
        click.echo(f"listed on {row['listed_on']} by {row['source']}{extra}")
    click.echo("")
    click.echo(paper.abstract)


def _shown(name: str, value) -> str:
    if isinstance(value, tuple):
        return " ".join(value)
    if name == "smtp_password" and value:
        return "********"
    return str(value) if value != "" else '""'


@cli.command("settings")
@pass_ctx
def settings_cmd(state: CliContext) -> None:
    """List every setting: the value in effect, where it came from (default, TOML file,
    environment, command line), the default and what it means."""
    settings = state.settings
    for name, env, default, help_text in describe_settings():
        value, origin = getattr(settings, name), settings.origin(name)
        line = f"{env} = {_shown(name, value)}  ({origin}"
        line += ")" if origin == "default" else f"; default {_shown(name, default)})"
        click.echo(f"{line}\n    {help_text}")


def is_brief(args: list[str]) -> bool:
    """True when ``args`` ask for a help, the version or one of :data:`BRIEF_COMMANDS`."""
    rest = hoist_global_options(args)
    while rest and (rest[0] in GLOBAL_FLAGS or rest[0] in GLOBAL_VALUED
                    or rest[0].split("=", 1)[0] in GLOBAL_VALUED):
        rest = rest[2:] if rest[0] in GLOBAL_VALUED else rest[1:]
    return not rest or rest[0] in BRIEF_COMMANDS or rest[0] in ("-h", "--help", "--version")


def main() -> None:
    """The ``paperboy`` executable. A brief command runs without the cyclic garbage collector:
    its imports (sqlalchemy, pydantic, numpy...) make objects by the hundred thousand, and the
    collector's passes over them, during the imports and again at exit, are a large share of a
    search process's CPU time (RESULTS.md, "Issue 16": ``paperboy search`` process time)."""
    brief = is_brief(sys.argv[1:])
    if brief:
        gc.disable()
    try:
        cli(prog_name="paperboy")
    finally:
        if brief:
            gc.freeze()  # what is left is freed with the process, not examined once more


if __name__ == "__main__":  # pragma: no cover
    main()
