"""`paperboy user ...` (accounts) and `paperboy moderate ...` (hide papers and comments)."""

from __future__ import annotations

import sys

import click

from paperboy.cli.context import CliContext, pass_ctx
from paperboy.errors import NotFound, PaperboyError
from paperboy.plural import count_of


def _user(state: CliContext, username: str):
    found = state.store.accounts.get_by_username(username)
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def user() -> None:
    """Manage accounts: create (optionally as administrator), disable, enable, list."""


@user.command("create")
@click.argument("username")
@click.option("--email", required=True, help="The account's e-mail address.")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@pass_ctx
def create(state: CliContext, username: str, email: str, admin: bool, password_stdin: bool) -> None:
    """Create an account (asks for its password unless --password-stdin)."""
    from paperboy.community.passwords import hash_password, password_problem
    from paperboy.validation import email_problem, username_problem

    problem = username_problem(username) or email_problem(email)
    if problem:
        raise PaperboyError(problem)
    password = _read_password(password_stdin)
    problem = password_problem(password, username, email)
    if problem:
        raise PaperboyError(problem)
    created = state.store.accounts.create_user(username, email, hash_password(password), is_admin=admin)
    click.echo(f"created {'administrator' if admin else 'user'} {created.username}")


@user.command("disable")
@click.argument("username")
@pass_ctx
def disable(state: CliContext, username: str) -> None:
    """Disable an account: it cannot sign in; its sessions and API tokens end at once."""
    found = _user(state, username)
    state.store.accounts.set_disabled(found.id, True)
    click.echo(f"disabled {found.username} (sessions ended, API tokens revoked)")


@user.command("enable")
@click.argument("username")
@pass_ctx
def enable(state: CliContext, username: str) -> None:
    """Let a disabled account sign in again."""
    found = _user(state, username)
    state.store.accounts.set_disabled(found.id, False)
    click.echo(f"enabled {found.username}")


@user.command("admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take administrator rights away instead.")
@pass_ctx
def make_admin(state: CliContext, username: str, revoke: bool) -> None:
    """Grant (or with --revoke take away) administrator rights."""
    found = _user(state, username)
    state.store.accounts.set_admin(found.id, not revoke)
    click.echo(f"{found.username} is {'no longer ' if revoke else ''}an administrator")


@user.command("token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the token by.")
@pass_ctx
def token(state: CliContext, username: str, name: str) -> None:
    """Create a personal API token for scripts (printed once; revoke it at /account)."""
    found = _user(state, username)
    if found.disabled:
        raise PaperboyError(f"{found.username} is disabled; enable the account first")
    value, row = state.store.accounts.create_api_token(found.id, name)
    click.echo(value)
    click.echo(f"token {row.name!r} for {found.username}: shown only now; send it as "
               f"'Authorization: Bearer <token>'", err=True)


@user.command("list")
@pass_ctx
def list_users(state: CliContext) -> None:
    """Accounts, oldest first (at most 1000)."""
    for u in state.store.accounts.list_users(limit=1000):
        flags = ",".join(f for f, on in (("admin", u.is_admin), ("disabled", u.disabled)) if on)
        click.echo(f"{u.username}\t{u.email}\t{u.created_at:%Y-%m-%d}\t{flags}")


@click.group()
def moderate() -> None:
    """Administration: hide or show papers and comments, repair vote counts."""


def _paper_key(paper_id: str) -> str:
    from paperboy.ids import normalize_paper_id

    key = normalize_paper_id(paper_id)
    if key is None:
        raise PaperboyError(f"{paper_id!r} is not an arXiv id or a prefixed id")
    return key


@moderate.command("hide-paper")
@click.argument("paper_id")
@click.option("--undo", is_flag=True, help="Show the paper again.")
@pass_ctx
def hide_paper(state: CliContext, paper_id: str, undo: bool) -> None:
    """Hide a paper from every page, feed and API (or show it again with --undo)."""
    key = _paper_key(paper_id)
    if not state.store.community.set_paper_hidden(key, not undo):
        raise NotFound(f"no paper {key} in the store")
    click.echo(f"{'shown' if undo else 'hidden'}: {key}")


@moderate.command("hide-comment")
@click.argument("comment_id", type=int)
@click.option("--undo", is_flag=True, help="Show the comment again.")
@pass_ctx
def hide_comment(state: CliContext, comment_id: int, undo: bool) -> None:
    """Hide a comment (its text stays visible to administrators only)."""
    if state.store.community.get_comment(comment_id) is None:
        raise NotFound(f"no comment {comment_id}")
    changed = state.store.community.set_comment_hidden(comment_id, not undo)
    click.echo(f"comment {comment_id} {'shown' if undo else 'hidden'}"
               f"{'' if changed else ' (it already was)'}")


@moderate.command("recount")
@pass_ctx
def recount(state: CliContext) -> None:
    """Rebuild the per-paper vote and comment counters from the votes and comments."""
    n = state.store.community.recount()
    click.echo(f"recounted {count_of(n, 'paper')}")
