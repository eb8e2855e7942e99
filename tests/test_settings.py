"""Settings: declared once, documented, read from file, environment and overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from paperboy.cli.main import cli
from paperboy.settings import Settings, SettingsError, describe_settings, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_has_help():
    for name, env, _default, help_text in describe_settings():
        assert env == f"PAPERBOY_{name.upper()}"
        assert len(help_text) > 10, name


def _readme_default(default) -> str:
    if isinstance(default, tuple):
        return " ".join(default)
    return str(default) if default != "" else "(empty)"


def test_readme_table_matches_the_settings():
    """Every setting has one row in README's table, with its default and help, in order."""
    rows = re.findall(r"^\| `(PAPERBOY_[A-Z0-9_]+)` \| `([^`]*)` \| (.*) \|$", README.read_text(), re.M)
    expected = [(env, _readme_default(default), help_text)
                for _, env, default, help_text in describe_settings()]
    assert rows == expected


def test_priority_file_env_override(tmp_path):
    (tmp_path / "paperboy.toml").write_text('port = 9000\nhost = "0.0.0.0"\ncategories = ["cs.CL"]\n')
    s = load_settings({"data_dir": tmp_path, "port": 9200}, environ={"PAPERBOY_HOST": "::1"})
    assert (s.port, s.host, s.categories) == (9200, "::1", ("cs.CL",))


def test_defaults_use_sqlite_in_data_dir(tmp_path):
    s = load_settings({"data_dir": tmp_path}, environ={})
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'paperboy.db'}"
    assert s.is_sqlite


def test_bad_values_name_the_setting(tmp_path):
    with pytest.raises(SettingsError, match="PAPERBOY_PORT"):
        load_settings({"data_dir": tmp_path}, environ={"PAPERBOY_PORT": "eighty"})
    (tmp_path / "paperboy.toml").write_text("nonsense = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'nonsense'"):
        load_settings({"data_dir": tmp_path}, environ={})


@pytest.mark.parametrize("env, value, message", [
    ("PAPERBOY_SMTP_SECURITY", "ssl",
     "setting smtp_security from environment PAPERBOY_SMTP_SECURITY: Input should be "
     "'starttls', 'tls' or 'none' (got 'ssl')"),
    ("PAPERBOY_DIGEST_WEEKDAY", "mond",
     "setting digest_weekday from environment PAPERBOY_DIGEST_WEEKDAY: Input should be 'mon', "
     "'tue', 'wed', 'thu', 'fri', 'sat' or 'sun' (got 'mond')"),
    ("PAPERBOY_TIMEZONE", "Europe/Berlinn",
     "setting timezone from environment PAPERBOY_TIMEZONE: expected an IANA time zone name "
     "such as UTC or Europe/Berlin (got 'Europe/Berlinn')"),
    ("PAPERBOY_EMBEDDING_PRECISION", "int4",
     "setting embedding_precision from environment PAPERBOY_EMBEDDING_PRECISION: Input should "
     "be 'auto', 'int8' or 'fp32' (got 'int4')"),
])
def test_checked_values_are_one_line_naming_the_variable_and_the_allowed(tmp_path, env, value,
                                                                           message):
    with pytest.raises(SettingsError) as err:
        load_settings({"data_dir": tmp_path}, environ={env: value})
    assert str(err.value) == message


def test_checked_values_that_pass(tmp_path):
    s = load_settings({"data_dir": tmp_path}, environ={
        "PAPERBOY_SMTP_SECURITY": "TLS", "PAPERBOY_DIGEST_WEEKDAY": "Friday",
        "PAPERBOY_TIMEZONE": "America/New_York", "PAPERBOY_EMBEDDING_PRECISION": "fp32",
        "PAPERBOY_CATEGORIES": "cs.CL, math.AG"})
    assert (s.smtp_security, s.digest_weekday, s.timezone, s.embedding_precision, s.categories) == (
        "tls", "fri", "America/New_York", "fp32", ("cs.CL", "math.AG"))


def test_a_bad_value_in_the_toml_file_names_the_file(tmp_path):
    (tmp_path / "paperboy.toml").write_text('digest_weekday = "someday"\n')
    with pytest.raises(SettingsError, match=r"^setting digest_weekday from .*paperboy.toml: "):
        load_settings({"data_dir": tmp_path}, environ={})


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        Settings().port = 1  # type: ignore[misc]


def test_settings_command_shows_values_in_effect_and_their_origin(tmp_path):
    (tmp_path / "paperboy.toml").write_text('timezone = "Asia/Tokyo"\n')
    result = CliRunner().invoke(cli, ["settings", "--data-dir", str(tmp_path)], env={
        "PAPERBOY_CONFIG": None, "PAPERBOY_PORT": "9100", "PAPERBOY_SMTP_PASSWORD": "hunter2"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"PAPERBOY_DATA_DIR = {tmp_path}  (command line; default paperboy-data)" in lines
    assert f"PAPERBOY_TIMEZONE = Asia/Tokyo  ({tmp_path / 'paperboy.toml'}; default UTC)" in lines
    assert "PAPERBOY_PORT = 9100  (environment; default 8000)" in lines
    assert "PAPERBOY_HOST = 127.0.0.1  (default)" in lines
    assert "PAPERBOY_SMTP_PASSWORD = ********  (environment; default \"\")" in lines
    assert "hunter2" not in result.output


def test_a_bad_setting_stops_any_command_with_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["stats", "--data-dir", str(tmp_path)],
                                env={"PAPERBOY_CONFIG": None, "PAPERBOY_TIMEZONE": "Mars/Base"})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: setting timezone from environment PAPERBOY_TIMEZONE: expected an IANA time zone "
        "name such as UTC or Europe/Berlin (got 'Mars/Base')"]
