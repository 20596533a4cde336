"""The agent's credentials, checked before a step (issue 14 item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wrapix_core.ralph.credentials import problem
from wrapix_core.settings import RalphSettings, SandboxSettings, Settings

CLAUDE = ["claude", "--dangerously-skip-permissions"]


def test_a_sandbox_needs_a_key_it_is_given_or_a_login_in_the_workspace(tmp_path: Path) -> None:
    ralph, settings = RalphSettings(), Settings()
    error = problem(CLAUDE, ralph, settings, tmp_path, environ={})
    assert error is not None and "in its sandbox" in error.message
    assert "CLAUDE_CODE_OAUTH_TOKEN" in (error.hint or "")
    assert problem(CLAUDE, ralph, settings, tmp_path,
                   environ={"CLAUDE_CODE_OAUTH_TOKEN": "t"}) is None
    assert problem(CLAUDE, ralph, settings, tmp_path, environ={"ANTHROPIC_API_KEY": "k"}) is None
    # a variable the sandbox is not given does not count
    assert problem(CLAUDE, ralph, settings, tmp_path,
                   environ={"ANTHROPIC_AUTH_TOKEN": "t"}) is not None
    with_env = Settings(sandbox=SandboxSettings(env={"ANTHROPIC_API_KEY": "k"}))
    assert problem(CLAUDE, ralph, with_env, tmp_path, environ={}) is None
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text("{}")
    assert problem(CLAUDE, ralph, settings, tmp_path, environ={}) is None


def test_a_login_file_that_is_a_link_does_not_count(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text("{}")
    (tmp_path / "ws" / ".claude").mkdir(parents=True)
    (tmp_path / "ws" / ".claude" / ".credentials.json").symlink_to(real)
    assert problem(CLAUDE, RalphSettings(), Settings(), tmp_path / "ws", environ={}) is not None


def test_an_api_key_helper_counts(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text('{"apiKeyHelper": "~/bin/key"}')
    assert problem(CLAUDE, RalphSettings(), Settings(), tmp_path, environ={}) is None


def test_on_the_host_the_config_dir_counts(tmp_path: Path) -> None:
    ralph = RalphSettings(host=True)
    config = tmp_path / "config"
    config.mkdir()
    env = {"CLAUDE_CONFIG_DIR": str(config)}
    error = problem(CLAUDE, ralph, Settings(), tmp_path, environ=env)
    assert error is not None and "on this machine (--host)" in error.message
    assert problem(CLAUDE, ralph, Settings(), tmp_path,
                   environ={**env, "CLAUDE_CODE_USE_BEDROCK": "1"}) is None
    (config / ".credentials.json").write_text("{}")
    assert problem(CLAUDE, ralph, Settings(), tmp_path, environ=env) is None


def test_other_agents_are_not_checked(tmp_path: Path) -> None:
    assert problem(["my-agent"], RalphSettings(), Settings(), tmp_path, environ={}) is None
    assert problem(["/opt/bin/claude"], RalphSettings(), Settings(), tmp_path,
                   environ={}) is not None


def test_settings_swapped_for_a_link_after_the_check_are_not_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sandbox of the workspace may replace ``.claude/settings.json`` between the
    host's ``lstat`` and its read (the race is forced here): the read must not follow the
    link to a host file (nor wait on a FIFO there)."""
    from wrapix_core.ralph import credentials

    host_file = tmp_path / "host.json"
    host_file.write_text('{"apiKeyHelper": "~/bin/key"}')
    (tmp_path / "ws" / ".claude").mkdir(parents=True)
    (tmp_path / "ws" / ".claude" / "settings.json").symlink_to(host_file)
    monkeypatch.setattr(credentials, "_regular_file", lambda path: path.name == "settings.json")
    assert not credentials._has_login(tmp_path / "ws" / ".claude")
