"""Host facts: what the planner is told about this machine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.sandbox.factories import spec
from wrapix_core.sandbox.host import deploy_key_paths, gather
from wrapix_core.sandbox.model import RuntimeCaps
from wrapix_core.sandbox.plan import PlanError
from wrapix_core.settings import SandboxSettings


def test_deploy_key_names_are_file_names() -> None:
    home = Path("/home/alice")
    assert deploy_key_paths("proj", home) == (home / ".ssh/deploy_keys/proj",
                                              home / ".ssh/deploy_keys/proj-signing")
    for name in ("../id_ed25519", "../../.aws/credentials", "..", ".", "a/b", ""):
        with pytest.raises(PlanError, match="deploy key name"):
            deploy_key_paths(name, home)


def test_a_deploy_key_setting_cannot_reach_other_keys(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # ~/.ssh/deploy_keys/../id_ed25519 is the user's own key: it must never be mounted.
    home = tmp_path / "home"
    (home / ".ssh" / "deploy_keys").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE\n")
    monkeypatch.setenv("HOME", str(home))
    workspace = tmp_path / "proj"
    workspace.mkdir()
    settings = SandboxSettings(deploy_key="../id_ed25519")
    with pytest.raises(PlanError, match="deploy key name"):
        asyncio.run(gather(spec(workspace=workspace), settings, RuntimeCaps()))
