"""`ralph loop --parallel 2` in real sandboxes (rootless Podman; mandatory in CI): each issue's
agent runs in a sandbox on its own session (the project's objects mounted read-only for
its alternates), commits there, and both land on the branch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.ralph.support import SPEC, Workspace, complete, install_agent
from tests.ralph.test_parallel import IDENTITY, changed, git, sessions
from tests.ralph.test_sandbox_real import PROFILE as SANDBOX_PROFILE
from wrapix_core.sessions.store import sessions_root

pytestmark = [pytest.mark.podman]

SCENARIO_ENV = ', FAKE_AGENT_SCENARIO = "/shared/scenario.json" }}\n'
PROFILE = SANDBOX_PROFILE.replace(" }}\n", SCENARIO_ENV, 1) + """
[[profiles.ralphtest.mounts]]
source = "{shared}"
dest = "/shared"
mode = "rw"
"""
"""test_sandbox_real's profile, plus a directory all the sandboxes share (the scenario,
the calls, the barrier)."""


def sandboxes_on_sessions() -> list[str]:
    """Containers (any state) whose workspace is one of this test's sessions."""
    listed = subprocess.run(["podman", "ps", "-a", "--format",
                             '{{.Names}} {{index .Labels "wrapix.workspace"}}'],
                            capture_output=True, text=True, timeout=60, check=True)
    root = str(sessions_root())
    return [line.split()[0] for line in listed.stdout.splitlines()
            if len(line.split()) == 2 and line.split()[1].startswith(root)]


def meets(title: str, me: str, other: str, path: str) -> dict[str, object]:
    return complete(
        title, 1,
        {"write": {"path": path, "content": f"{title}, made in a sandbox\n"}},
        {"run": ["git", "add", path]},
        {"run": ["git", "commit", "--quiet", "-m", f"{title}: {path}"]},
        {"write": {"path": f"/shared/barrier/{me}", "content": "started\n"}},
        {"wait_file": f"/shared/barrier/{other}", "timeout": 300})


def test_two_issues_in_sandboxes_on_sessions_land_on_the_branch(wrapix_image: str,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shared = tmp_path / "shared"
    (shared / "barrier").mkdir(parents=True)
    (root / "specs").mkdir(parents=True)
    (root / "specs" / "demo.md").write_text(SPEC)
    ws = Workspace(root, tmp_path / "fakebin",
                   env_extra={"WRAPIX_RALPH__HOST": "false", "WRAPIX_RALPH__WATCHDOG": "5",
                              **IDENTITY})
    install_agent(ws.bin)
    assert SCENARIO_ENV in PROFILE
    (root / "wrapix.toml").write_text(PROFILE.format(image=wrapix_image, bin=ws.bin,
                                                     shared=shared))
    (root / ".gitignore").write_text(".wrapix/\n.beads/\n.claude/\n")
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", ".gitignore", "specs", "wrapix.toml")
    git(root, "commit", "--quiet", "-m", "start")
    assert ws.ralph("start", "demo").returncode == 0
    alpha = ws.create("Alpha feature", priority=1)
    beta = ws.create("Beta feature", priority=2)
    (shared / "scenario.json").write_text(json.dumps({"responses": [
        meets("Alpha feature", "a", "b", "alpha.txt"),
        meets("Beta feature", "b", "a", "beta.txt")]}))

    done = ws.ralph("loop", "--parallel", "2", timeout=900)
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 100, done.stdout + done.stderr
    calls = [json.loads(line) for line in (shared / "calls.jsonl").read_text().splitlines()]
    assert sorted(call["issue"] for call in calls) == sorted([alpha, beta])
    for call in calls:
        assert call["cwd"] == "/workspace"  # inside a sandbox
        # named after its workspace: the session `ralph-<issue>`, not the checkout `proj`
        assert call["env"]["WRAPIX_SANDBOX"].startswith(f"wrapix-ralph-{call['issue'].lower()}")
    assert ws.issue(alpha)["status"] == ws.issue(beta)["status"] == "closed"
    for path, title in (("alpha.txt", "Alpha feature"), ("beta.txt", "Beta feature")):
        assert (root / path).read_text() == f"{title}, made in a sandbox\n"
    subjects = git(root, "log", "--format=%s", "main")
    assert "Alpha feature: alpha.txt" in subjects and "Beta feature: beta.txt" in subjects
    assert changed(root) == set()
    assert sessions(ws) == []
    assert sandboxes_on_sessions() == []
    # the sandboxes ran on the sessions, never on the checkout
    listed = subprocess.run(["git", "-C", str(root), "for-each-ref", "refs/heads"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert "wrapix/" not in listed  # no session branch in the user's repository
