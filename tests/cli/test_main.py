"""The top-level command: global options anywhere on the line, as users type them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from paperboy.cli.main import cli, hoist_global_options

#: two good papers and one without a title
HF_DAY = str(Path(__file__).parents[1] / "fixtures" / "hf" / "daily_papers_2024-10-28.json")


def test_global_options_are_moved_to_the_front():
    assert hoist_global_options(["ingest", "file", "X", "-q", "--data-dir", "D"]) == [
        "-q", "--data-dir", "D", "ingest", "file", "X"]
    assert hoist_global_options(["stats", "--database-url=sqlite://", "--json"]) == [
        "--database-url=sqlite://", "stats", "--json"]
    # after ``--`` everything is an argument; a trailing option without value is left to click
    assert hoist_global_options(["search", "--", "-q"]) == ["search", "--", "-q"]
    assert hoist_global_options(["stats", "--data-dir"]) == ["stats", "--data-dir"]


def test_data_dir_and_quiet_after_the_subcommand(tmp_path):
    runner = CliRunner()
    data = tmp_path / "after"
    env = {"PAPERBOY_CONFIG": None, "PAPERBOY_DATA_DIR": str(tmp_path / "elsewhere")}
    result = runner.invoke(cli, ["ingest", "file", HF_DAY, "-q", "--data-dir", str(data)],
                           env=env, catch_exceptions=False)
    assert result.exit_code == 3, result.output  # the record without a title
    assert "2 new, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert "%|" not in result.stderr  # -q: no progress bar
    stats = runner.invoke(cli, ["stats", "--json", f"--data-dir={data}"], env=env)
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.stdout)["papers"] == 2
    assert not (tmp_path / "elsewhere").exists()
