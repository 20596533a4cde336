"""The launch plan of a sandbox on a session (pure: no runtime, no git)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.factories import WS, facts, spec
from tests.sandbox.test_plan_podman import env, flags, volumes
from wrapix_core.sandbox.model import SessionMount
from wrapix_core.sandbox.plan import PlanError, plan_podman
from wrapix_core.settings import SandboxSettings

OBJECTS = Path("/home/alice/src/real-proj/.git/objects")


def session_plan(**changes: object):  # type: ignore[no-untyped-def]
    mount = SessionMount("one", Path("/home/alice/src/real-proj"), OBJECTS,
                         setup=(("npm", "ci"), ("sh", "-c", "echo 'a b'")))
    spec_ = spec(session=mount, **changes)
    settings = SandboxSettings()
    return plan_podman(spec_, facts(spec_, settings), settings)


def test_the_project_objects_are_read_only_at_their_own_path_and_alternates_too() -> None:
    argv = session_plan().argv
    vols = volumes(argv)
    assert f"{OBJECTS}:{OBJECTS}:ro" in vols
    alternates = ".git/objects/info/alternates"
    assert f"{WS}/{alternates}:/workspace/{alternates}:ro" in vols
    # Pinned onto themselves, so the agent cannot rename them away.
    assert f"{WS}/.git/objects:/workspace/.git/objects:rw" in vols
    assert f"{WS}/.git/objects/info:/workspace/.git/objects/info:rw" in vols
    assert vols[0] == f"{WS}:/workspace:rw"


def test_session_env_labels_and_setup_lines() -> None:
    argv = session_plan().argv
    variables = env(argv)
    assert variables["WRAPIX_SESSION"] == "one"
    assert variables["WRAPIX_AGENT_TMUX"] == "1"
    assert variables["WRAPIX_SESSION_SETUP"] == "npm ci\nsh -c 'echo '\"'\"'a b'\"'\"''"
    labels = flags(argv, "--label")
    assert "wrapix.session=one" in labels
    assert "wrapix.project=/home/alice/src/real-proj" in labels
    assert "WRAPIX_AGENT_TMUX" not in env(session_plan(tty=False).argv)


def test_a_plain_sandbox_gets_none_of_it() -> None:
    spec_ = spec()
    settings = SandboxSettings()
    argv = plan_podman(spec_, facts(spec_, settings), settings).argv
    assert not any(name.startswith(("WRAPIX_SESSION", "WRAPIX_AGENT_TMUX"))
                   for name in env(argv))
    assert not any(label.startswith("wrapix.session") for label in flags(argv, "--label"))


def test_missing_objects_are_refused() -> None:
    mount = SessionMount("one", Path("/p"), OBJECTS)
    spec_ = spec(session=mount)
    settings = SandboxSettings()
    with pytest.raises(PlanError, match="not a directory"):
        plan_podman(spec_, facts(spec_, settings, missing={str(OBJECTS)}), settings)
