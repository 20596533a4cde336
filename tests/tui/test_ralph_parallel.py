"""The board shows the running steps of ``ralph loop --parallel``: started from the board
(the parallel-loop key) or from another terminal, each running issue is marked on its row
and listed in the run panel (issue, title, session, elapsed, where it is) — followed from
Ralph's state by the watcher — and the marks and lines go when the steps end.

Real git, sessions, the merge queue and the real engine; the agent is the fake one (on
the host, in each session's work tree). The two agents wait for each other and then for
the test, so both steps are really running at once while the board is looked at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.ralph.test_parallel import IDENTITY, as_repo, works_then_meets
from tests.tui.conftest import wait_until
from tests.tui.test_ralph_board import board_ready, make
from wrapix_tui import board_model as model


@pytest.fixture
def parallel_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A started Ralph workspace that is a git repository on `main`; the fake agent (the
    only fake) runs on the host, with its scenario named for every session's work tree."""
    from tests.ralph.support import make_workspace

    ws = as_repo(make_workspace(tmp_path / "proj"))
    for name, value in ws.env().items():
        if name in ("PATH", "WRAPIX_RALPH__HOST", "WRAPIX_RALPH__WATCHDOG",
                    "ANTHROPIC_API_KEY", "FAKE_AGENT_SCENARIO", *IDENTITY):
            monkeypatch.setenv(name, value)
    return ws


def slow_pair(ws: Any) -> tuple[str, str, Path]:
    """Issues Alpha and Beta whose agents commit a file each, meet, then wait for ``go``."""
    alpha = ws.create("Alpha feature", priority=1)
    beta = ws.create("Beta feature", priority=2)
    go = ws.fake_dir / "go"
    pair = [works_then_meets(ws, "Alpha feature", "a", "b", "alpha.txt", "alpha\n"),
            works_then_meets(ws, "Beta feature", "b", "a", "beta.txt", "beta\n")]
    for response in pair:  # then both wait for the test
        response["actions"].insert(-1, {"wait_file": str(go), "timeout": 120})
    ws.scenario(*pair)
    return alpha, beta, go


def marked(pane: Any) -> dict[str, str]:
    return {row.key: row.step for row in pane.issues.rows
            if isinstance(row, model.IssueRow) and row.step}


def panel_text(pane: Any) -> str:
    found = pane.query("#ralph-run")
    return str(found.first().render()) if found else ""


async def test_a_parallel_loop_from_the_board_shows_both_running_steps(
        parallel_ws: Any) -> None:
    ws = parallel_ws
    alpha, beta, go = slow_pair(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "L")  # ralph.parallel: 2 by default; no approval asked
        await wait_until(pilot, lambda: marked(pane) == {alpha: "running", beta: "running"},
                         what="both steps marked running", timeout=60)
        assert pane.running == "parallel"
        text = panel_text(pane)
        assert " parallel 2 " in text and "2 at once" in text, text
        for issue_id, title in ((alpha, "Alpha feature"), (beta, "Beta feature")):
            line = next(line for line in text.splitlines() if issue_id in line)
            assert title in line and f"ralph-{issue_id}".lower() in line and "running" in line
        assert "2 running" in pane.title
        go.write_text("")
        await wait_until(pilot, lambda: pane.running is None, what="the loop to end",
                         timeout=90)
        await wait_until(pilot, lambda: marked(pane) == {}, what="the marks to go")
        text = panel_text(pane)
        assert "at once" not in text and "running" not in pane.title
        assert f"{alpha} done" in text or f"✓ {alpha}" in text, text
    assert ws.issue(alpha)["status"] == ws.issue(beta)["status"] == "closed"
    assert (ws.root / "alpha.txt").read_text() == "alpha\n"
    assert (ws.root / "beta.txt").read_text() == "beta\n"


async def test_a_parallel_loop_of_another_terminal_shows_and_is_not_stopped_here(
        parallel_ws: Any) -> None:
    ws = parallel_ws
    alpha, beta, go = slow_pair(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        loop = ws.popen("loop", "--parallel", "2")
        try:
            await wait_until(pilot, lambda: marked(pane) == {alpha: "running",
                                                             beta: "running"},
                             what="the other terminal's steps", timeout=60)
            text = panel_text(pane)
            assert f"pid {loop.pid}" in text and "another terminal" in text, text
            assert alpha in text and beta in text
            await pilot.press("4", "x")  # not this TUI's: said, nothing stopped
            await pilot.pause()
            assert any("another terminal" in str(note.message)
                       for note in app._notifications), list(app._notifications)
            assert loop.poll() is None
            go.write_text("")
            assert loop.wait(timeout=90) == 100
            await wait_until(pilot, lambda: marked(pane) == {} and "another terminal"
                             not in panel_text(pane), what="the marks and lines to go")
            assert not pane.query_one("#ralph-run").display  # this TUI ran nothing
            assert "running" not in pane.title
        finally:
            if loop.poll() is None:
                loop.kill()
                loop.wait()
    assert ws.issue(alpha)["status"] == ws.issue(beta)["status"] == "closed"


async def test_stop_puts_both_issues_back(parallel_ws: Any) -> None:
    ws = parallel_ws
    alpha, beta, _go = slow_pair(ws)
    app = make(ws.root)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await board_ready(pilot, app)
        await pilot.press("4", "L")
        barrier = ws.fake_dir / "barrier"  # both agents have started (works_then_meets)
        await wait_until(pilot, lambda: len(marked(pane)) == 2 and (barrier / "a").exists()
                         and (barrier / "b").exists(), what="both agents working", timeout=60)
        await pilot.press("x")
        await wait_until(pilot, lambda: pane.running is None, what="the stop", timeout=60)
        await wait_until(pilot, lambda: marked(pane) == {}, what="the marks to go")
        assert "issues were put back" in panel_text(pane)
    for issue_id in (alpha, beta):
        assert ws.issue(issue_id)["status"] == "open"
    state = ws.root / ".wrapix" / "ralph" / "state"
    assert not [name for name in os.listdir(state) if name.endswith(".run.json")]


async def test_a_bad_or_lying_run_file_shows_nothing_and_is_logged(
        home: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Unreadable JSON, and a run naming an issue that is not on the board: no mark, no
    line, no crash; each said once in the log. A good run written next is shown."""
    import json
    import logging

    from tests.tui.ralph_support import demo_workspace
    from wrapix_core.ralph import runsteps
    from wrapix_core.ralph.lock import RalphLock
    from wrapix_core.ralph.state import ralph_paths

    workspace = demo_workspace(home / "demo")
    paths = ralph_paths(workspace)
    paths.makedirs(paths.locks)
    locks = [RalphLock(runsteps.run_lock(paths, pid), "a loop", paths.anchor)
             for pid in (4242, 4343)]
    assert all(lock.try_acquire() for lock in locks)  # both "loops" alive

    def run(pid: int, issue: str) -> str:
        return json.dumps({"label": "demo", "parallel": 2, "pid": pid, "host": "h",
                           "started_at": "2026-01-05T08:00:00Z",
                           "steps": [{"issue": issue, "state": "running",
                                      "started_at": "2026-01-05T08:00:00Z"}]})

    caplog.set_level(logging.WARNING, logger="wrapix.tui.ralph")
    runsteps.run_file(paths, 4242).write_text('{"label": "demo", "steps": [')
    runsteps.run_file(paths, 4343).write_text(run(4343, "demo-nope"))
    app = make(workspace)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pane = await board_ready(pilot, app)
            await wait_until(pilot, lambda: pane.steps.read is not None
                             and len(pane.steps.read.runs) == 1, what="the runs read")
            assert pane.steps.steps == () and marked(pane) == {}
            assert "running" not in pane.title
            said = [record.getMessage() for record in caplog.records]
            assert any("not a parallel run" in line for line in said), said
            assert any("demo-nope" in line and "not on the board" in line for line in said)
            runsteps.run_file(paths, 4343).write_text(run(4343, "demo-a2"))
            await wait_until(pilot, lambda: marked(pane) == {"demo-a2": "running"},
                             what="the good run shown")
            assert "pid 4343" in panel_text(pane)
    finally:
        for lock in locks:
            lock.release()
