"""`paperboy user ...` and `paperboy moderate ...` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from click.testing import CliRunner

from paperboy.cli.main import cli
from paperboy.community.passwords import verify_password
from tests.builders import make_paper


def _run(settings, *args, input=None):
    base = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        base += ["--database-url", settings.database_url]
    return CliRunner().invoke(cli, [*base, *args], input=input, catch_exceptions=False)


def test_create_admin_and_disable(settings, store):
    r = _run(settings, "user", "create", "boss", "--email", "boss@example.org", "--admin",
             "--password-stdin", input="a very long secret\n")
    assert r.exit_code == 0 and "created administrator boss" in r.output
    boss = store.accounts.get_by_username("boss")
    assert boss.is_admin and verify_password(boss.password_hash, "a very long secret")
    session = store.accounts.create_session(boss.id)
    r = _run(settings, "user", "disable", "boss")
    assert r.exit_code == 0
    assert store.accounts.get_by_username("boss").disabled
    assert store.accounts.user_for_session(session) is None
    assert _run(settings, "user", "enable", "boss").exit_code == 0
    assert not store.accounts.get_by_username("boss").disabled
    assert "boss\tboss@example.org" in _run(settings, "user", "list").output


def test_create_refuses_bad_input_in_one_line(settings, store):
    r = _run(settings, "user", "create", "ok-name", "--email", "x@example.org",
             "--password-stdin", input="short\n")
    assert r.exit_code == 2 and r.output.strip().startswith("error:") and len(r.output.strip().splitlines()) == 1
    r = _run(settings, "user", "create", "bad name!", "--email", "x@example.org",
             "--password-stdin", input="long enough password\n")
    assert r.exit_code == 2 and "username" in r.output
    _run(settings, "user", "create", "taken", "--email", "t@example.org", "--password-stdin",
         input="long enough password\n")
    r = _run(settings, "user", "create", "TAKEN", "--email", "u@example.org", "--password-stdin",
             input="long enough password\n")
    assert r.exit_code == 2 and "taken" in r.output
    assert _run(settings, "user", "disable", "ghost").exit_code == 1


def test_moderate_hides_papers_and_comments(settings, store, make_user):
    p = make_paper()
    store.papers.upsert([p], source="arxiv")
    author = make_user()
    cid = store.community.add_comment(author.id, p.id, "rude")
    r = _run(settings, "moderate", "hide-comment", str(cid))
    assert r.exit_code == 0 and store.community.get_comment(cid).hidden
    assert store.community.counts([p.id])[p.id].comments_local == 0
    r = _run(settings, "moderate", "hide-paper", f"https://arxiv.org/abs/{p.id}v2")
    assert r.exit_code == 0 and store.community.is_paper_hidden(p.id) is True
    assert _run(settings, "moderate", "hide-paper", p.id, "--undo").exit_code == 0
    assert store.community.is_paper_hidden(p.id) is False
    assert _run(settings, "moderate", "hide-paper", "9999.99999").exit_code == 1
    assert _run(settings, "moderate", "hide-comment", "424242").exit_code == 1
    store.community.set_upvote(author.id, p.id)
    assert "recounted 1 paper" in _run(settings, "moderate", "recount").output
    assert store.community.counts([p.id])[p.id].upvotes_local == 1


def test_token_for_scripts(settings, store, make_user):
    u = make_user()
    r = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir),
                                 *(["--database-url", settings.database_url] if settings.database_url else []),
                                 "user", "token", u.username, "--name", "cron"])
    assert r.exit_code == 0
    value = r.stdout.strip()
    assert value.startswith("pbt_") and store.accounts.user_for_api_token(value).id == u.id
    assert store.accounts.list_api_tokens(u.id)[0].name == "cron"
    store.accounts.set_disabled(u.id, True)
    assert _run(settings, "user", "token", u.username).exit_code == 2
