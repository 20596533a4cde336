"""The tmux session registry and the helpers the sandbox launcher calls."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notify.conftest import wait_until
from tests.notify.tmux_server import TmuxServer
from wrapix_core import paths
from wrapix_core.notify import sessions


def test_file_names_replace_colon_and_dot() -> None:
    directory = paths.sessions_dir()
    assert sessions.session_file("main:1.0") == directory / "main-1-0.json"
    assert sessions.session_file("../x/y:0.0").parent == directory
    assert sessions.session_file("").parent == directory


def test_register_read_unregister(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,4242,0")
    path = sessions.register_session("main:1.0", "42")
    assert json.loads(path.read_text()) == {
        "session_id": "main:1.0", "window_id": "42", "tmux_socket": "/tmp/tmux-1000/default"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sessions.read_session("main:1.0") == sessions.Session(
        "main:1.0", "42", "/tmp/tmux-1000/default")
    sessions.unregister_session("main:1.0")
    assert not path.exists() and sessions.read_session("main:1.0") is None
    sessions.unregister_session("main:1.0")  # twice is fine


def test_a_file_of_another_id_with_the_same_name_is_not_used() -> None:
    sessions.register_session("a.b:0.0", None)
    assert sessions.read_session("a-b:0.0") is None  # same file name, other id
    assert sessions.read_session("a.b:0.0") == sessions.Session("a.b:0.0", None, None)


def test_damaged_files_read_as_unregistered() -> None:
    path = sessions.session_file("main:0.0")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert sessions.read_session("main:0.0") is None
    path.write_text('{"session_id": "main:0.0", "window_id": 7}')
    assert sessions.read_session("main:0.0") == sessions.Session("main:0.0", "7", None)


def test_outside_tmux_there_is_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    assert sessions.current_tmux_session_id() is None


def test_without_a_window_manager_there_is_no_window(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sessions.focused_window_id() is None


def test_focused_window_comes_from_niri(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    niri = tmp_path / "niri"
    niri.write_text("#!/bin/sh\necho '{\"id\": 12, \"title\": \"foot\"}'\n")
    niri.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert sessions.focused_window_id() == "12"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[TmuxServer]:
    server = TmuxServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.tmux
def test_inside_tmux_the_session_id_is_this_pane(tmux: TmuxServer, tmp_path: Path) -> None:
    out = tmp_path / "id.txt"
    code = ("from wrapix_core.notify.sessions import current_tmux_session_id as c; "
            f"open({str(out)!r}, 'w').write(str(c()))")
    tmux("set-option", "-g", "remain-on-exit", "on")  # pane indexes stay put
    tmux("new-window", "-d", "-t", "main:3", sys.executable, "-c", code)
    tmux("split-window", "-d", "-t", "main:3", sys.executable, "-c", code.replace(
        "id.txt", "id2.txt"))
    second = tmp_path / "id2.txt"
    wait_until(lambda: out.exists() and second.exists() and bool(out.read_text())
               and bool(second.read_text()), what="the panes reporting their ids")
    assert out.read_text() == "main:3.0"
    assert (tmp_path / "id2.txt").read_text() == "main:3.1"
