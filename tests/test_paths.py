"""wrapix's XDG directories agree with platformdirs (which wrapix no longer imports on Linux)."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from wrapix_core import paths

KINDS = {"config": platformdirs.user_config_dir, "state": platformdirs.user_state_dir,
         "cache": platformdirs.user_cache_dir, "data": platformdirs.user_data_dir}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rules are Linux's")
@pytest.mark.parametrize("value", [None, "/tmp/xdg-here", "relative/ignored", ""])
@pytest.mark.parametrize("kind", list(KINDS))
def test_same_directories_as_platformdirs(kind: str, value: str | None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"WRAPIX_{kind.upper()}_DIR", raising=False)
    variable = paths._XDG[kind][0]
    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)
    assert str(getattr(paths, f"{kind}_dir")()) == KINDS[kind]("wrapix")


def test_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("WRAPIX_CACHE_DIR", "/tmp/elsewhere")
    assert str(paths.cache_dir()) == "/tmp/elsewhere"


def test_atomic_write_bytes_keeps_bytes_and_sets_or_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.bin"
    paths.atomic_write_bytes(target, b"\xff\xfe not UTF-8\r\n")
    assert target.read_bytes() == b"\xff\xfe not UTF-8\r\n"
    assert target.stat().st_mode & 0o777 == 0o644
    target.chmod(0o600)
    paths.atomic_write_bytes(target, b"second", mode=None)  # None: keep the file's mode
    assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"second", 0o600)
    paths.atomic_write_bytes(tmp_path / "new", b"", mode=None)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o644
    paths.atomic_write_text(target, "tëxt\n", mode=0o640)
    assert (target.read_bytes(), target.stat().st_mode & 0o777) == ("tëxt\n".encode(), 0o640)


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        paths.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [child.name for child in tmp_path.iterdir()] == ["file"]


def test_open_regular_reads_files_and_refuses_fifos_and_directories(tmp_path: Path) -> None:
    import os

    regular = tmp_path / "file"
    regular.write_bytes(b"data")
    with paths.open_regular(regular) as handle:
        assert handle.read() == b"data"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):  # a FIFO is not waited on; a directory is refused
        with pytest.raises(OSError, match="not a regular file"):
            paths.open_regular(target)
    with pytest.raises(FileNotFoundError):
        paths.open_regular(tmp_path / "missing")
