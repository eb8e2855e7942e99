"""Settings: declared once, documented, read from file, environment and overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from paperboy.settings import Settings, SettingsError, describe_settings, load_settings


def test_every_setting_has_help():
    for name, env, _default, help_text in describe_settings():
        assert env == f"PAPERBOY_{name.upper()}"
        assert len(help_text) > 10, name


def test_every_setting_is_in_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [env for _, env, _, _ in describe_settings() if env not in readme]
    assert not missing, f"undocumented settings: {missing}"


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


def test_settings_are_frozen():
    assert dataclasses.is_dataclass(Settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]
