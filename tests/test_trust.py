"""Project files are obeyed only once trusted: an agent can write the workspace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import script
from wrapix_core.errors import ConfigError
from wrapix_core.profiles import load_catalog
from wrapix_core.settings import load_settings

EVIL = '[sandbox]\npodman = "/workspace/evil.sh"\n[profiles.x]\nbase = "none"\n'


@pytest.fixture(autouse=True)
def checks_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WRAPIX_TRUST_PROJECTS", raising=False)


def wrapix(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix"), *args], capture_output=True, text=True, cwd=cwd,
                          input=input, timeout=60, check=False)


def test_a_new_project_file_is_not_obeyed(tmp_path: Path) -> None:
    (tmp_path / "wrapix.toml").write_text(EVIL)
    with pytest.raises(ConfigError, match="is not trusted \\(new\\)") as info:
        load_settings(tmp_path)
    assert f"wrapix trust {tmp_path}" in str(info.value)
    with pytest.raises(ConfigError, match="not trusted"):
        load_catalog(tmp_path)
    done = wrapix("run", "--dry-run", ".", cwd=tmp_path)
    assert done.returncode == 2 and "not trusted" in done.stderr
    assert "evil.sh" not in done.stdout


def test_trust_shows_the_file_and_asks(tmp_path: Path) -> None:
    (tmp_path / "wrapix.toml").write_text(EVIL + 'note = "\u202egnp.exe"\n')
    declined = wrapix("trust", cwd=tmp_path, input="n\n")
    assert declined.returncode == 2
    assert "/workspace/evil.sh" in declined.stdout  # shown before the question
    assert "\u202e" not in declined.stdout  # and shown safely
    with pytest.raises(ConfigError):
        load_settings(tmp_path)
    accepted = wrapix("trust", cwd=tmp_path, input="y\n")
    assert accepted.returncode == 0 and "trusted" in accepted.stdout


def test_trusted_content_is_obeyed_until_it_changes(tmp_path: Path) -> None:
    project = tmp_path / "wrapix.toml"
    project.write_text('[sandbox]\nmemory = "2g"\n')
    assert wrapix("trust", "--yes", cwd=tmp_path).returncode == 0
    assert load_settings(tmp_path).sandbox.memory == "2g"
    project.write_text('[sandbox]\nmemory = "2g"\npodman = "/workspace/evil.sh"\n')
    with pytest.raises(ConfigError, match="changed since you trusted it"):
        load_settings(tmp_path)
    assert wrapix("trust", "--yes", cwd=tmp_path).returncode == 0
    assert load_settings(tmp_path).sandbox.podman == "/workspace/evil.sh"
    revoked = wrapix("trust", "--revoke", cwd=tmp_path)
    assert "no longer trusted" in revoked.stdout
    with pytest.raises(ConfigError):
        load_settings(tmp_path)


def test_the_users_own_config_needs_no_trust(tmp_path: Path) -> None:
    from wrapix_core.settings import user_config_file

    user_config_file().parent.mkdir(parents=True, exist_ok=True)
    user_config_file().write_text('[sandbox]\nmemory = "3g"\n')
    assert load_settings(tmp_path).sandbox.memory == "3g"


def test_opting_out_with_the_environment(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wrapix.toml").write_text('[sandbox]\nmemory = "5g"\n')
    monkeypatch.setenv("WRAPIX_TRUST_PROJECTS", "all")
    assert load_settings(tmp_path).sandbox.memory == "5g"


def test_unparseable_toml_is_never_trusted(tmp_path: Path) -> None:
    """Issue 14 item 10: `wrapix trust` refuses a file it cannot read as TOML, saying
    which file and which line."""
    (tmp_path / "wrapix.toml").write_text('[sandbox]\nprofile = "x"\nbroken = [\n')
    done = wrapix("trust", "--yes", cwd=tmp_path)
    assert done.returncode == 2 and "line 3" in done.stderr, done.stderr  # the end
    (tmp_path / "wrapix.toml").write_text('[sandbox]\nprofile = "x"\nbroken = ]\n[a]\n')
    for answer in ("y\n", None):
        args = ("trust",) if answer else ("trust", "--yes")
        done = wrapix(*args, cwd=tmp_path, input=answer)
        assert done.returncode == 2, done
        assert "not trusted" in done.stderr and str(tmp_path / "wrapix.toml") in done.stderr
        assert "line 3" in done.stderr, done.stderr
    with pytest.raises(ConfigError, match="not trusted"):
        load_settings(tmp_path)
    # Raw terminal escapes are never valid TOML: refused, and the refusal is inert.
    (tmp_path / "wrapix.toml").write_text('note = "\x1b]0;owned\x07"\n')
    done = wrapix("trust", cwd=tmp_path, input="y\n")
    assert done.returncode == 2 and "\x1b" not in done.stderr + done.stdout
