"""Settings: defaults, user file, project file, environment — and errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from wrapix_core import paths
from wrapix_core.errors import ConfigError
from wrapix_core.settings import load_settings, user_config_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_files(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.sandbox.memory == "4096m"
    assert settings.sandbox.pids_limit == 4096
    assert settings.notify.inbox_limit == 10_000
    assert settings.ralph.agent == "claude --dangerously-skip-permissions"


def test_precedence_user_then_project_then_env(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(user_config_file(),
          '[sandbox]\nmemory = "1g"\npids_limit = 100\ncpus = 3\n[keymap]\nattach = "a"\n')
    write(tmp_path / "wrapix.toml", '[sandbox]\nmemory = "2g"\npids_limit = 200\n')
    monkeypatch.setenv("WRAPIX_SANDBOX__PIDS_LIMIT", "300")
    settings = load_settings(tmp_path)
    assert settings.sandbox.cpus == 3  # user file only
    assert settings.sandbox.memory == "2g"  # project beats user
    assert settings.sandbox.pids_limit == 300  # env beats both
    assert settings.keymap == {"attach": "a"}
    # Without a workspace the project file is not read.
    assert load_settings(None).sandbox.memory == "1g"


def test_user_file_location_follows_override(isolated_wrapix: Path) -> None:
    assert user_config_file() == paths.config_dir() / "config.toml"
    assert str(paths.config_dir()).startswith(str(isolated_wrapix))


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    project = write(tmp_path / "wrapix.toml", "[sandbox]\nmemroy = '1g'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(project) in str(info.value)
    assert "sandbox.memroy" in str(info.value)


def test_bad_value_names_file_and_key(tmp_path: Path) -> None:
    user = write(user_config_file(), "[sandbox]\npids_limit = 'many'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(user) in str(info.value)
    assert "sandbox.pids_limit" in str(info.value)


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    project = write(tmp_path / "wrapix.toml", "[sandbox\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_settings(tmp_path)
    assert str(project) in str(info.value)


def test_bad_environment_value_is_reported(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRAPIX_SANDBOX__PIDS_LIMIT", "lots")
    with pytest.raises(ConfigError, match="WRAPIX_"):
        load_settings(tmp_path)
