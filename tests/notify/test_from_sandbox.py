"""From inside a real sandbox, `wrapix-notify` reaches the host daemon (real Podman in CI)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import script

pytestmark = [pytest.mark.podman]


def test_notify_from_inside_a_sandbox_lands_in_the_inbox(wrapix_image: str,
                                                         tmp_path: Path) -> None:
    ws = tmp_path / "proj"
    (ws / ".git" / "hooks").mkdir(parents=True)
    (ws / ".git" / "config").write_text("[core]\n")
    daemon = subprocess.Popen([script("wrapix-notifyd"), "--foreground"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert daemon.stdout is not None
        for line in daemon.stdout:  # notices (no notify-send here) may come first
            if "listening on" in line:
                break
        else:
            pytest.fail("wrapix-notifyd ended without listening")
        run = subprocess.run(
            [script("wrapix"), "run", "--image", wrapix_image, str(ws), "--", "wrapix-notify",
             "From the sandbox", "[bold]literal[/bold] \x1b[31m"],
            capture_output=True, text=True, timeout=300, check=False, env=os.environ)
        assert run.returncode == 0, run.stderr
        assert "cannot notify you" not in run.stderr  # the socket directory was mounted
        inbox = subprocess.run([script("wrapix"), "inbox", "--json"], capture_output=True,
                               text=True, timeout=60, check=True)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    entries = json.loads(inbox.stdout)
    mine = [entry for entry in entries if entry["title"] == "From the sandbox"]
    assert len(mine) == 1
    assert mine[0]["message"] == "[bold]literal[/bold] \x1b[31m"  # stored faithfully
    assert mine[0]["sandbox"].startswith("wrapix-proj-")
