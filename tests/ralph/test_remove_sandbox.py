"""Ralph removes only its own sandboxes: labelled ``wrapix.role=ralph`` for this workspace.

A step's sandbox name is recorded in the label's state file; cleaning up after a crash
must never remove another container that has (or was given) that name.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from wrapix_core.ralph.agent import remove_sandbox
from wrapix_core.settings import SandboxSettings, Settings


def fake_podman(tmp_path: Path, labels: dict[str, str]) -> tuple[Settings, Path]:
    log = tmp_path / "calls"
    answer = tmp_path / "inspect.json"
    answer.write_text(json.dumps([{"Id": "abc", "Name": "box", "State": {"Status": "running"},
                                   "Config": {"Labels": labels}}]))
    podman = tmp_path / "podman"
    podman.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n"
                      f'if [ "$1 $2" = "container inspect" ]; then cat {answer}; fi\n')
    podman.chmod(0o755)
    return Settings(sandbox=SandboxSettings(podman=str(podman))), log


@pytest.mark.parametrize(("labels", "removed"), [
    ({"wrapix.role": "ralph", "wrapix.workspace": "/w/proj"}, True),
    ({"wrapix.role": "agent", "wrapix.workspace": "/w/proj"}, False),
    ({"wrapix.role": "ralph", "wrapix.workspace": "/w/other"}, False),
    ({}, False),
])
def test_only_ralphs_own_sandbox_is_removed(tmp_path: Path, labels: dict[str, str],
                                            removed: bool) -> None:
    settings, log = fake_podman(tmp_path, labels)
    asyncio.run(remove_sandbox(settings, "box", Path("/w/proj")))
    calls = log.read_text().splitlines()
    assert ("rm -f box" in calls) is removed, calls
