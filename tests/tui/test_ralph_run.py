"""The TUI's Ralph run state driven without a screen: a plain approver and a recorder stand
in for the modal and the pane; the engine, the store and the fake agent are real."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.tui.test_ralph_board import ralph_ws  # noqa: F401  (the fixture)
from wrapix_core.ralph.events import Decision, StepProposal
from wrapix_tui.ralph_run import RalphRun


class Recorder:
    """The view: counts redraws, keeps the toasts."""

    def __init__(self) -> None:
        self.redraws = 0
        self.output = 0
        self.said: list[tuple[str, str]] = []

    def run_changed(self, output_only: bool) -> None:
        if output_only:
            self.output += 1
        else:
            self.redraws += 1

    def say(self, text: str, severity: str = "information", title: str = "",
            timeout: float | None = None, limit: int = 300) -> None:
        self.said.append((severity, text))


async def test_a_loop_runs_approves_and_stops_on_no_answer(ralph_ws: Any) -> None:  # noqa: F811
    from tests.ralph.support import complete

    ws = ralph_ws
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    ws.scenario(complete(None, 0, {"say": "Working on {ISSUE_ID}."}))
    view = Recorder()
    run = RalphRun(ws.root, view)
    asked: list[str] = []
    summaries: list[str | None] = []

    async def approve(proposal: StepProposal) -> Decision | None:
        asked.append(proposal.issue.id)
        assert run.asking is proposal and run.running
        summaries.append(run.summary())
        return Decision.APPROVE if len(asked) == 1 else None  # no answer: stop

    driving = run.start("loop", "demo", None, approve)
    assert run.mode == "loop" and run.label == "demo" and run.summary() is not None
    await driving
    assert asked == [first, second]
    assert summaries[1] == f"A Ralph loop is running (waiting for your approval of {second})."
    assert not run.running and run.summary() is None and run.asking is None
    texts = [line.text for line in run.results]
    assert texts[0] == f"✓ {first} done"
    assert f"■ stopped before {second}" in texts
    assert ("information", f"✓ {first} done") in view.said  # the step's toast
    assert run.tail is not None and any("Working on" in line for line in run.tail.lines)
    assert view.output > 0 and view.redraws > 0
    assert ws.worked() == [first]
    assert await run.wait(0.1)  # nothing runs: no wait


async def test_stop_cancels_the_step_once_and_wait_sees_it_put_back(
        ralph_ws: Any) -> None:  # noqa: F811
    from tests.ralph.support import complete
    from wrapix_core.ralph.lock import is_held
    from wrapix_core.ralph.state import ralph_paths, read_label_state

    ws = ralph_ws
    only = ws.create("Slow one")
    ws.scenario(complete(None, 0, {"say": "Started {ISSUE_ID}."},
                         {"wait_file": str(ws.fake_dir / "go"), "timeout": 60}))
    view = Recorder()
    run = RalphRun(ws.root, view)

    async def approve(proposal: StepProposal) -> Decision | None:
        return Decision.APPROVE

    task = asyncio.ensure_future(run.start("step", "demo", None, approve))
    started = asyncio.get_running_loop().time()
    while run.current is None:
        assert not task.done(), task
        assert asyncio.get_running_loop().time() - started < 30, "the step did not start"
        await asyncio.sleep(0.02)
    assert run.summary() == f"A Ralph step is running ({only})."
    assert run.stop() and run.stopping
    assert not run.stop()  # a second stop would cut the clean-up short: refused
    assert await run.wait(30)
    assert task.cancelled()
    assert not run.running and not run.stopping
    assert run.results[-1].text == "■ stopped (the running step's issue was put back)"
    paths = ralph_paths(ws.root)
    assert ws.issue(only)["status"] == "open"
    assert read_label_state(paths, "demo").running == {}
    assert not is_held(paths.issue_lock(only))
