"""Ralph's files, the specs index and the project wrapix.toml are read and written on the
host without following a link an agent planted in the workspace (issue 13)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.ralph import lock, templates
from wrapix_core.ralph.agent import Session
from wrapix_core.ralph.start import start
from wrapix_core.ralph.state import (
    LabelState,
    current_label,
    mutate,
    ralph_paths,
    ralph_settings,
    read_label_state,
    set_current,
    write_label_state,
)
from wrapix_core.settings import Settings, load_settings
from wrapix_core.specs.parser import read_spec


@pytest.fixture
def host(tmp_path: Path) -> Path:
    directory = tmp_path / "host"
    directory.mkdir()
    (directory / "secret").write_text("host file\n")
    return directory


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "ws"
    directory.mkdir()
    start(ralph_paths(directory, {}), "demo")
    return directory


def untouched(host: Path) -> bool:
    return sorted(path.name for path in host.iterdir()) == ["secret"] and \
        (host / "secret").read_text() == "host file\n"


def test_a_linked_state_directory_is_refused(workspace: Path, host: Path) -> None:
    paths = ralph_paths(workspace, {})
    state = paths.state_dir
    state.rename(workspace / "old-state")
    state.symlink_to(host)
    with pytest.raises(workspace_fs.LinkRefused, match=rf"{state} is a symbolic link"):
        set_current(paths, "demo")
    with pytest.raises(workspace_fs.LinkRefused):
        write_label_state(paths, LabelState("demo", "specs/demo.md"))
    with pytest.raises(WrapixError):
        read_label_state(paths, "demo")
    with pytest.raises(workspace_fs.LinkRefused):
        current_label(paths)
    assert untouched(host)


def test_linked_state_files_are_neither_read_nor_replaced(workspace: Path, host: Path) -> None:
    paths = ralph_paths(workspace, {})
    (host / "demo.json").write_text(json.dumps({"label": "demo", "spec": "specs/x.md"}))
    label_file = paths.label_file("demo")
    label_file.unlink()
    label_file.symlink_to(host / "demo.json")
    with pytest.raises(workspace_fs.LinkRefused, match=rf"{label_file} is a symbolic link"):
        read_label_state(paths, "demo")
    with pytest.raises(workspace_fs.LinkRefused):
        write_label_state(paths, LabelState("demo", "specs/demo.md"))
    assert label_file.is_symlink()
    config = paths.config
    config.unlink()
    config.symlink_to(host / "secret")
    with pytest.raises(workspace_fs.LinkRefused, match=rf"{config} is a symbolic link"):
        ralph_settings(Settings(), paths, {})


def test_a_linked_lock_file_is_refused_not_created_through(workspace: Path, host: Path) -> None:
    paths = ralph_paths(workspace, {})
    paths.locks.mkdir(parents=True, exist_ok=True)
    paths.label_lock("demo").symlink_to(host / "made-by-the-lock")
    with pytest.raises(workspace_fs.LinkRefused, match=r"label-demo\.lock is a symbolic link"):
        asyncio.run(mutate(paths, "demo", lambda state: None))
    assert not (host / "made-by-the-lock").exists()
    issue_lock = lock.RalphLock(paths.issue_lock("wx-1"), "issue", paths.anchor)
    paths.issue_lock("wx-1").symlink_to(host / "secret")
    with pytest.raises(workspace_fs.LinkRefused):
        issue_lock.try_acquire()
    assert untouched(host)


def test_a_linked_template_or_logs_directory_is_refused(workspace: Path, host: Path) -> None:
    paths = ralph_paths(workspace, {})
    step = templates.project_path(paths, "step")
    step.unlink()
    step.symlink_to(host / "secret")
    with pytest.raises(workspace_fs.LinkRefused, match=rf"{step} is a symbolic link"):
        templates.load(paths, "step")
    paths.logs.rmdir()
    paths.logs.symlink_to(host)
    session = Session("step", "prompt", paths.logs / "wx-1-1.log", "n", anchor=paths.anchor)
    with pytest.raises(workspace_fs.LinkRefused, match=rf"{paths.logs} is a symbolic link"):
        session.open_log()
    assert untouched(host)


def test_a_linked_specs_file_is_a_problem_not_read(workspace: Path, host: Path) -> None:
    spec = workspace / "specs" / "demo.md"
    spec.symlink_to(host / "secret")
    assert "is a symbolic link" in read_spec(spec).problems[0]


def test_a_linked_project_wrapix_toml_is_refused(tmp_path: Path, host: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRAPIX_TRUST_PROJECTS", "all")
    (host / "config.toml").write_text('[sandbox]\nmemory = "1g"\n')
    (tmp_path / "wrapix.toml").symlink_to(host / "config.toml")
    with pytest.raises(workspace_fs.LinkRefused, match=r"wrapix.toml is a symbolic link"):
        load_settings(tmp_path)
