"""`ralph loop --parallel N`: issues worked at once in sessions of their own, landed on the
label's branch one merge at a time; a conflict reopens the issue and keeps its work.

Real git, the real `ralph` and `wrapix` commands and sessions; the agent is the fake one
(on the host, in each session's work tree). Two agents wait for each other before they
finish, so the loop can only end if they really run at the same time.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ralph.support import Workspace, complete
from tests.support.cli import script

IDENTITY = {"GIT_AUTHOR_NAME": "Ralph Test", "GIT_AUTHOR_EMAIL": "ralph@example.com",
            "GIT_COMMITTER_NAME": "Ralph Test", "GIT_COMMITTER_EMAIL": "ralph@example.com"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          timeout=60, check=True, env={**_env(), **IDENTITY})
    return done.stdout


def _env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}


@pytest.fixture
def repo(ws: Workspace) -> Workspace:
    return as_repo(ws)


def as_repo(ws: Workspace) -> Workspace:
    """The Ralph workspace as a git repository on branch `main`, Ralph's files ignored;
    the agent finds its scenario from every session's work tree."""
    (ws.root / ".gitignore").write_text(".wrapix/\n.beads/\n.fake-agent/\n.claude/\n")
    (ws.root / "README.md").write_text("# demo\n")
    git(ws.root, "init", "--quiet", "--initial-branch", "main")
    git(ws.root, "add", ".gitignore", "README.md", "specs")
    git(ws.root, "commit", "--quiet", "-m", "start")
    ws.env_extra.update(IDENTITY)
    ws.env_extra["FAKE_AGENT_SCENARIO"] = str(ws.fake_dir / "scenario.json")
    return ws


def works_then_meets(ws: Workspace, title: str, me: str, other: str, path: str,
                     content: str) -> dict[str, Any]:
    """The agent for ``title``: writes ``path`` in its session and commits it, says it
    started, waits until the other agent has started too, then finishes."""
    barrier = ws.fake_dir / "barrier"
    return complete(
        title, 1,
        {"write": {"path": path, "content": content}},
        {"run": ["git", "add", path]},
        {"run": ["git", "commit", "--quiet", "-m", f"{title}: {path}"]},
        {"write": {"path": str(barrier / me), "content": "started\n"}},
        {"wait_file": str(barrier / other), "timeout": 60})


def changed(repo: Path) -> set[str]:
    """Uncommitted paths in the checkout, but for the spec index Ralph marks done itself
    when the label's last issue closes."""
    return {line[3:] for line in git(repo, "status", "--porcelain").splitlines()} - {
        "specs/README.md"}


def sessions(ws: Workspace) -> list[dict[str, Any]]:
    done = subprocess.run([script("wrapix"), "sessions", "--json"], cwd=ws.root,
                          env=ws.env(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def two_at_once(ws: Workspace, alpha_path: str, beta_path: str
                ) -> tuple[str, str, subprocess.CompletedProcess[str]]:
    """Issues Alpha and Beta, whose agents write "alpha" and "beta" lines to their
    paths and meet; ``ralph loop --parallel 2`` run over them."""
    alpha = ws.create("Alpha feature", priority=1)
    beta = ws.create("Beta feature", priority=2)
    ws.scenario(works_then_meets(ws, "Alpha feature", "a", "b", alpha_path, "alpha\n"),
                works_then_meets(ws, "Beta feature", "b", "a", beta_path, "beta\n"))
    return alpha, beta, ws.ralph("loop", "--parallel", "2", timeout=180)


def test_two_issues_worked_at_once_each_landing_on_the_branch(repo: Workspace) -> None:
    ws = repo
    alpha, beta, done = two_at_once(ws, "alpha.txt", "beta.txt")
    assert done.returncode == 100, done.stdout + done.stderr
    assert sorted(ws.worked()) == sorted([alpha, beta])
    # each in a work tree of its own, never the checkout
    cwds = {call["issue"]: call["cwd"] for call in ws.calls()}
    assert len(set(cwds.values())) == 2 and str(ws.root) not in cwds.values()
    assert ws.issue(alpha)["status"] == ws.issue(beta)["status"] == "closed"
    # both landed on main, in the checkout, one merge at a time
    assert (ws.root / "alpha.txt").read_text() == "alpha\n"
    assert (ws.root / "beta.txt").read_text() == "beta\n"
    subjects = git(ws.root, "log", "--format=%s", "main")
    assert "Alpha feature: alpha.txt" in subjects and "Beta feature: beta.txt" in subjects
    assert changed(ws.root) == set()
    assert "landed on main" in done.stderr
    assert sessions(ws) == []  # landed sessions are dropped
    assert f"done 2 ({alpha}, {beta})" in done.stdout or f"done 2 ({beta}, {alpha})" in done.stdout


def test_a_conflict_reopens_the_issue_with_the_files_and_keeps_its_work(
        repo: Workspace) -> None:
    ws = repo
    alpha, beta, done = two_at_once(ws, "shared.txt", "shared.txt")
    assert done.returncode == 1, done.stdout + done.stderr
    issues = {issue_id: ws.issue(issue_id) for issue_id in (alpha, beta)}
    closed = [i for i, issue in issues.items() if issue["status"] == "closed"]
    reopened = [i for i, issue in issues.items() if issue["status"] == "open"]
    assert len(closed) == 1 and len(reopened) == 1, issues
    notes = issues[reopened[0]]["notes"]
    assert "not landed" in notes and "shared.txt" in notes and "conflict" in notes
    # the first one's work is on main; the checkout is clean, nothing half-merged
    landed = "alpha\n" if closed == [alpha] else "beta\n"
    assert (ws.root / "shared.txt").read_text() == landed
    assert changed(ws.root) == set()
    # nothing lost: the other's commit is in its session, which the notes name
    kept = sessions(ws)
    assert len(kept) == 1 and kept[0]["name"] in notes
    session_path = Path(kept[0]["path"])
    assert (session_path / "shared.txt").read_text() == ("beta\n" if landed == "alpha\n"
                                                          else "alpha\n")
    assert "shared.txt" in git(session_path, "log", "--format=%s", "-1")
    assert f"parked 1 ({reopened[0]})" in done.stdout


def test_parallel_refuses_confirm_and_a_checkout_without_a_branch(ws: Workspace) -> None:
    ws.create("Alpha feature")
    done = ws.ralph("loop", "--parallel", "2", "--confirm")
    assert done.returncode == 2 and "--confirm" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    done = ws.ralph("loop", "--parallel", "2")  # not a git repository
    assert done.returncode == 2 and "check out the branch" in done.stderr, done.stderr
    assert ws.worked() == []


async def test_the_running_steps_file_follows_each_step_to_its_end(
        repo: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the board reads: each step running, queued to land, landing; the one the
    merge refused stays listed as a conflict until the loop ends; then the file is gone."""
    from wrapix_core.ralph import runsteps
    from wrapix_core.ralph.engine import Engine
    from wrapix_core.ralph.parallel import ParallelLoop

    ws = repo
    for name, value in ws.env().items():
        monkeypatch.setenv(name, value)
    alpha = ws.create("Alpha feature", priority=1)
    beta = ws.create("Beta feature", priority=2)
    ws.scenario(works_then_meets(ws, "Alpha feature", "a", "b", "shared.txt", "alpha\n"),
                works_then_meets(ws, "Beta feature", "b", "a", "shared.txt", "beta\n"))
    seen: list[dict[str, str]] = []
    write = runsteps.RunRecorder._write

    def recording(self: runsteps.RunRecorder) -> None:
        write(self)
        read = runsteps.read_runs(self.paths)  # read back as the board does
        assert read.problems == []
        seen.append({issue: step.state for issue, step in read.steps().items()})

    monkeypatch.setattr(runsteps.RunRecorder, "_write", recording)
    engine = Engine(ws.root)
    result = await ParallelLoop(engine, 2).run()
    assert result.exit_code == 1
    assert {alpha: "running", beta: "running"} in seen  # both at once
    [refused] = [issue for issue in (alpha, beta) if ws.issue(issue)["status"] == "open"]
    for issue in (alpha, beta):
        states = [step[issue] for step in seen if issue in step]
        assert states[:1] == ["running"] and "queued" in states and "landing" in states
    assert seen[-1] == {refused: "conflict"}  # listed until the loop ended
    assert runsteps.read_runs(engine.paths).runs == []
    assert not [name for name in (engine.paths.state_dir).iterdir()
                if name.name.endswith(".run.json")]


async def test_a_stop_while_the_sessions_are_being_made_puts_the_issues_back(
        repo: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped between claiming and the agent's start (its session is made in a thread a
    stop cannot interrupt): the issue is open again, its lock free, and the session it was
    getting is dropped once made — nothing left in progress."""
    import asyncio
    import threading

    from wrapix_core.ralph import lock
    from wrapix_core.ralph.engine import Engine
    from wrapix_core.ralph.parallel import ParallelLoop

    ws = repo
    for name, value in ws.env().items():
        monkeypatch.setenv(name, value)
    issues = [ws.create("Alpha feature", priority=1), ws.create("Beta feature", priority=2)]
    gate = threading.Event()
    loop = asyncio.get_running_loop()
    entered: asyncio.Queue[str] = asyncio.Queue()
    make = ParallelLoop._new_session

    def held_back(self: ParallelLoop, issue: Any) -> Any:
        loop.call_soon_threadsafe(entered.put_nowait, issue.id)
        assert gate.wait(60)
        return make(self, issue)

    monkeypatch.setattr(ParallelLoop, "_new_session", held_back)
    engine = Engine(ws.root)
    task = asyncio.ensure_future(ParallelLoop(engine, 2).run())
    assert sorted([await asyncio.wait_for(entered.get(), 60) for _ in issues]) == sorted(issues)
    assert all(ws.issue(issue)["status"] == "in_progress" for issue in issues)
    task.cancel()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    for issue in issues:
        assert ws.issue(issue)["status"] == "open"
        assert "interrupted" in ws.issue(issue)["notes"]
        assert not lock.is_held(engine.paths.issue_lock(issue), engine.paths.anchor)
    assert sessions(ws) == []
    assert not [path for path in engine.paths.state_dir.iterdir()
                if path.name.endswith(".run.json")]
