"""The launch fast path: a recorded plan is reused only while nothing it depends on changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wrapix_core.cli.commands import is_launch
from wrapix_core.sandbox import launchcache


def key(argv: list[str], env: dict[str, str] | None = None, cwd: str = "/w",
        tty: bool = False) -> bytes:
    return launchcache.launch_key(argv, cwd, env or {"HOME": "/h"}, tty)


def test_key_depends_on_the_invocation() -> None:
    base = key(["run", "."])
    assert key(["run", "."]) == base
    assert key(["run", ".", "-d"]) != base
    assert key(["run", "."], cwd="/other") != base
    assert key(["run", "."], tty=True) != base
    assert key(["run", "."], {"HOME": "/h", "WRAPIX_SANDBOX__MEMORY": "1g"}) != base
    assert key(["run", "."], {"HOME": "/h", "TMUX": "/tmp/tmux-1/default,1,0"}) != base
    assert key(["run", "."], {"HOME": "/h", "UNRELATED": "x"}) == base


def test_secret_values_never_enter_the_key_but_their_presence_does() -> None:
    with_token = key(["run"], {"HOME": "/h", "CLAUDE_CODE_OAUTH_TOKEN": "one"})
    assert key(["run"], {"HOME": "/h", "CLAUDE_CODE_OAUTH_TOKEN": "two"}) == with_token
    assert key(["run"], {"HOME": "/h"}) != with_token


def test_validators_notice_changes(tmp_path: Path) -> None:
    config = tmp_path / "wrapix.toml"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    rows = launchcache.validators([str(config)], kinds_only=[str(workspace)])
    assert launchcache.still_valid(rows)
    (workspace / "new-file").write_text("agents write here all the time")
    assert launchcache.still_valid(rows)  # kind-only: the workspace's mtime is ignored
    config.write_text("[sandbox]\n")
    assert not launchcache.still_valid(rows)  # a file that did not exist now does
    rows = launchcache.validators([str(config)])
    config.write_text("[sandbox]\nmemory = '1g'\n")
    assert not launchcache.still_valid(rows)


def test_store_lookup_forget_and_bound(tmp_path: Path) -> None:
    watched = tmp_path / "f"
    watched.write_text("x")
    k1 = key(["run", "one"])
    launchcache.store(k1, {"argv": ["podman"], "validators": launchcache.validators(
        [str(watched)])})
    assert launchcache.lookup(k1) is not None
    watched.write_text("changed")
    assert launchcache.lookup(k1) is None
    launchcache.forget(k1)
    assert not list(Path(launchcache.cache_root()).glob("*.plan"))
    for index in range(launchcache.MAX_ENTRIES + 5):
        launchcache.store(key(["run", str(index)]), {"validators": []})
    assert len(list(Path(launchcache.cache_root()).glob("*.plan"))) == launchcache.MAX_ENTRIES


def test_pruning_copes_with_another_wrapix_pruning_at_the_same_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launchcache, "MAX_ENTRIES", 2)
    for index in range(3):
        launchcache.store(key(["run", f"race-{index}"]), {"validators": []})
    listed = os.scandir

    def racing(path: str) -> list[os.DirEntry[str]]:
        entries = list(listed(path))
        for entry in entries:  # the other process removes the old records first
            if entry.name.endswith(".plan"):
                os.unlink(entry.path)
        return entries

    monkeypatch.setattr(launchcache.os, "scandir", racing)
    launchcache.store(key(["run", "race-last"]), {"validators": []})  # no error


def test_a_record_for_another_invocation_is_never_used() -> None:
    """File names are a CRC of the key; the full key is compared, so a collision only
    costs a re-plan."""
    mine, other = key(["run", "mine"]), key(["run", "other"])
    launchcache.store(other, {"validators": []})
    Path(launchcache._file(other)).rename(launchcache._file(mine))
    assert launchcache.lookup(mine) is None


def test_corrupt_records_are_ignored() -> None:
    k = key(["run", "corrupt"])
    Path(launchcache.cache_root()).mkdir(parents=True, exist_ok=True)
    Path(launchcache._file(k)).write_bytes(b"\x00not marshal")
    assert launchcache.lookup(k) is None


def test_cache_root_agrees_with_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    from wrapix_core import paths

    assert launchcache.cache_root() == str(paths.cache_dir() / "launch")
    monkeypatch.delenv("WRAPIX_CACHE_DIR")
    for value in ("/tmp/xdg-cache", "relative", ""):
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert launchcache.cache_root() == str(paths.cache_dir() / "launch")


@pytest.mark.parametrize(("args", "launch"), [
    ([], True), (["."], True), (["run", "."], True), (["--profile", "rust"], True),
    (["run", "--dry-run", "."], False), (["ls"], False), (["--help"], False),
    (["run", "-h"], False), (["image", "build"], False), (["--version"], False),
    (["run", "--emit", "kube", "."], False), (["--emit=kube"], False),
])
def test_what_counts_as_a_launch(args: list[str], launch: bool) -> None:
    assert is_launch(args) is launch


def test_fast_path_module_imports_only_the_standard_library() -> None:
    code = ("import sys; import wrapix_core.cli.fastlaunch, wrapix_core.cli.entry, "
            "wrapix_core.notify.socketdirs; "
            "heavy = [m for m in ('click', 'pydantic', 'pydantic_settings', 'rich', "
            "'platformdirs', 'psutil', 'textual', 'subprocess', 'pathlib', 'json', 'typing') "
            "if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60, env={**os.environ})
    assert done.stdout.strip() == "[]"
