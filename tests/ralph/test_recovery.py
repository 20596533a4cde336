"""A step that dies (Ctrl-C, a crash) never leaves its issue lost in in_progress."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess

from tests.ralph.support import Workspace, complete, process_gone, wait_until


def _stuck_step(ws: Workspace) -> tuple[str, subprocess.Popen[str]]:
    issue = ws.create("Long job")
    never = ws.fake_dir / "never"
    ws.scenario(complete("Long job", 1, {"wait_file": str(never), "timeout": 120}),
                complete("Long job"))
    process = ws.popen("step")
    wait_until(lambda: len(ws.calls()) == 1, 30, "the agent to start")
    assert ws.issue(issue)["status"] == "in_progress"
    return issue, process


def test_ctrl_c_reopens_the_issue(ws: Workspace) -> None:
    issue, process = _stuck_step(ws)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130
    stored = ws.issue(issue)
    assert stored["status"] == "open"
    assert "the step was interrupted; reopened" in stored["notes"]
    state = json.loads((ws.ralph_dir / "state" / "demo.json").read_text())
    assert state["running"] == {}
    agent = ws.calls()[0]["pid"]
    wait_until(lambda: process_gone(agent), 10, "the agent to be ended with the step")
    done = ws.ralph("step")
    assert done.returncode == 0
    assert ws.issue(issue)["status"] == "closed"


def test_a_crashed_step_is_explained_by_status_and_recovered_by_the_next_step(
        ws: Workspace) -> None:
    issue, process = _stuck_step(ws)
    process.kill()
    process.communicate(timeout=30)
    agent = ws.calls()[0]["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(agent, signal.SIGKILL)  # the orphaned agent (its own session)
    assert ws.issue(issue)["status"] == "in_progress"  # what a crash leaves behind
    status = ws.ralph("status")
    assert f"interrupted: {issue}" in status.stdout
    assert "the next `ralph step` reopens it" in status.stdout
    as_json = json.loads(ws.ralph("status", "--json").stdout)
    assert as_json["running"][0]["state"] == "interrupted"
    done = ws.ralph("step")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{issue}: its step (pid" in done.stderr and "reopened" in done.stderr
    stored = ws.issue(issue)
    assert stored["status"] == "closed"
    assert "ended without finishing; reopened" in stored["notes"]
    assert ws.worked() == [issue, issue]
    assert "interrupted" not in ws.ralph("status").stdout


def test_status_shows_a_running_step_as_running(ws: Workspace) -> None:
    issue, process = _stuck_step(ws)
    try:
        status = ws.ralph("status")
        assert f"running:  {issue} since" in status.stdout
        other = ws.ralph("step")  # a second step does not take the running issue
        assert other.returncode == 101
        assert f"1 issue in progress ({issue})" in other.stdout
    finally:
        (ws.fake_dir / "never").write_text("go")
        process.communicate(timeout=60)
    assert process.returncode == 0
