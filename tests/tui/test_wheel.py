"""The wheel ships the styles: build it, install it into a fresh venv, start the app there."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_in_pty(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
               ) -> tuple[int, bytes]:
    master, slave = pty.openpty()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                             start_new_session=True)
    os.close(slave)
    output = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                child.kill()
                raise AssertionError(f"no output for {timeout}s: {bytes(output)[-400:]!r}")
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        return child.wait(timeout=timeout), bytes(output)
    finally:
        os.close(master)


@pytest.mark.slow
def test_the_installed_wheel_has_its_styles_and_starts(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(dist), str(ROOT)], check=True, timeout=600)
    wheel = next(dist.glob("wrapix-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for sheet in ("app.tcss", "modals.tcss", "logs.tcss"):
        assert f"wrapix_tui/styles/{sheet}" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   timeout=900)
    where = subprocess.run([str(python), "-c", "import wrapix_tui.styles as s; "
                            "print(s.styles_dir())"], capture_output=True, text=True,
                           check=True, cwd=tmp_path, timeout=60).stdout.strip()
    assert where.startswith(str(venv)), where  # the wheel's copy, not this checkout's
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")}
    env.update({k: v for k, v in os.environ.items() if k.endswith("_DIR")
                and k.startswith("WRAPIX_")})
    env.update(TERM="xterm-256color", WRAPIX_TUI_EXIT_AFTER_FIRST_FRAME="1")
    code, output = run_in_pty([str(venv / "bin" / "wrapix-tui"), str(workspace)], env,
                              tmp_path)
    assert code == 0, output[-800:]
    assert b"Sandboxes" in output and b"Inbox" in output and b"Builder" in output
