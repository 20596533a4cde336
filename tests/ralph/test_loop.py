"""`ralph loop`: order, discovered work, --confirm, --max-steps, failures, two loops at once."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

from tests.ralph.support import Workspace, complete, final, respond, wait_until
from tests.support.cli import script


def test_loop_works_in_priority_order_then_exits_100(ws: Workspace) -> None:
    low = ws.create("Low", priority=3)
    high = ws.create("High", priority=0)
    needs_high = ws.create("Needs high", priority=1, deps=[high])
    mid = ws.create("Mid", priority=2)
    ws.scenario(complete(times=0))
    done = ws.ralph("loop")
    assert done.returncode == 100, done.stdout + done.stderr
    assert ws.worked() == [high, needs_high, mid, low]
    assert (f"loop demo: done 4 ({high}, {needs_high}, {mid}, {low}), parked 0, asked 0, "
            "skipped 0") in done.stdout


def test_discovered_work_is_worked_by_the_same_loop(ws: Workspace) -> None:
    first = ws.create("Build the parser")
    ws.scenario(
        complete("Build the parser", 1,
                 {"run": ["wrapix", "tasks", "create", "--title", "Handle empty input",
                          "--labels", "rl-demo", "--deps", "discovered-from:{ISSUE_ID}",
                          "--json"], "save": "found"}),
        complete("Handle empty input"))
    done = ws.ralph("loop")
    assert done.returncode == 100, done.stdout + done.stderr
    worked = ws.worked()
    assert worked[0] == first and len(worked) == 2
    discovered = ws.issue(worked[1])
    assert discovered["title"] == "Handle empty input"
    assert discovered["status"] == "closed"


def test_confirm_skip_then_stop(ws: Workspace) -> None:
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    third = ws.create("Third", priority=3)
    ws.scenario(complete(times=0))
    # skip First, approve Second, then (First is not offered again) quit at Third
    done = ws.ralph("loop", "--confirm", input="s\ny\nq\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.worked() == [second]
    offered = [line for line in done.stdout.splitlines() if line.startswith("Step ")]
    assert [line.split()[2] for line in offered] == [first, second, third]
    assert f"stopped before {third}" in done.stdout
    assert ws.issue(first)["status"] == "open"
    assert ws.issue(third)["status"] == "open"


def test_confirm_approve_all_and_skipping_everything(ws: Workspace) -> None:
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    ws.scenario(complete(times=0))
    done = ws.ralph("loop", "--confirm", input="a\n")
    assert done.returncode == 100
    assert ws.worked() == [first, second]
    assert done.stdout.count("Work on it?") == 1  # asked once
    third = ws.create("Third")
    done = ws.ralph("loop", "--confirm", input="s\n")
    assert done.returncode == 0
    assert f"every ready issue was skipped in this loop ({third})" in done.stdout


def test_confirm_end_of_input_stops(ws: Workspace) -> None:
    ws.create("First")
    ws.scenario(complete())
    done = ws.ralph("loop", "--confirm", input="")
    assert done.returncode == 0
    assert ws.calls() == []


def test_max_steps(ws: Workspace) -> None:
    for number in range(3):
        ws.create(f"Issue {number}")
    ws.scenario(complete(times=0))
    done = ws.ralph("loop", "--max-steps", "2")
    assert done.returncode == 0
    assert len(ws.worked()) == 2


def test_a_question_does_not_stop_the_loop_but_a_failure_does_when_paused(ws: Workspace
                                                                          ) -> None:
    asks = ws.create("Asks", priority=0)
    fails = ws.create("Fails", priority=1)
    never = ws.create("Never reached", priority=2)
    ws.scenario(final("RALPH_CLARIFY: which colour?", "Asks"),
                final("no idea", "Fails", times=0), complete())
    done = ws.ralph("loop", WRAPIX_RALPH__PAUSE_ON_FAILURE="true")
    assert done.returncode == 1
    assert ws.worked() == [asks, fails, fails, fails]
    assert ws.issue(never)["status"] == "open"
    # both wait for a person now; the next loop works the rest, then is stuck on them
    again = ws.ralph("loop")
    assert again.returncode == 101
    assert ws.worked()[-1] == never
    assert f"2 issues wait for an answer ({asks}, {fails})" in again.stdout


def test_two_loops_never_take_the_same_issue(ws: Workspace) -> None:
    issues = [ws.create(f"Parallel {number}") for number in range(6)]
    go = ws.fake_dir / "go"
    ws.scenario(complete(None, 0, {"wait_file": str(go), "timeout": 60}))
    first = ws.popen("loop", "-q")
    second = ws.popen("loop", "-q")
    try:
        # both loops hold an issue at the same time before any finishes
        wait_until(lambda: len(ws.calls()) >= 2, 30, "two steps running at once")
        go.write_text("go")
        out_first, err_first = first.communicate(timeout=120)
        out_second, err_second = second.communicate(timeout=120)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    worked = ws.worked()
    assert sorted(worked) == sorted(issues), (out_first, err_first, out_second, err_second)
    assert len(set(worked)) == len(worked)  # nobody worked an issue twice
    assert {first.returncode, second.returncode} <= {100, 101}
    assert all(ws.issue(issue)["status"] == "closed" for issue in issues)
    assert len({call["pid"] for call in ws.calls()}) == 6
    state = (ws.ralph_dir / "state" / "demo.json").read_text()
    assert '"running": {}' in state


def test_loop_on_another_label(ws: Workspace) -> None:
    ws.create("Demo issue")
    other = ws.create("Other issue", labels=("rl-other",))
    (ws.root / "specs" / "other.md").write_text("# Other\n\nOther spec.\n")
    assert ws.ralph("start", "other").returncode == 0
    ws.scenario(complete(times=0))
    done = ws.ralph("loop", "other")
    assert done.returncode == 100
    assert ws.worked() == [other]
    assert ws.ralph("use", "demo").returncode == 0
    assert ws.ralph("loop").returncode == 100
    assert len(ws.worked()) == 2


def test_respond_helper_phase_guard(ws: Workspace) -> None:
    """A scenario response for another phase is never played for a step."""
    ws.create("Guarded")
    ws.scenario(respond({"result": "WORK_COMPLETE"}, phase="ready"))
    done = ws.ralph("step")
    assert done.returncode == 1
    assert "the agent exited with code 3" in done.stdout


def test_ctrl_c_at_the_confirm_prompt_ends_the_loop_at_once(ws: Workspace) -> None:
    ws.create("First")
    ws.scenario(complete())
    read_end, write_end = os.pipe()  # input stays open: nobody presses Enter
    process = subprocess.Popen([script("ralph"), "loop", "--confirm"], cwd=ws.root,
                               env=ws.env(), stdin=read_end, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    os.close(read_end)
    try:
        shown = b""
        deadline = time.monotonic() + 30
        while b"Work on it?" not in shown and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                shown += os.read(process.stdout.fileno(), 4096)  # type: ignore[union-attr]
        assert b"Work on it?" in shown
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
    finally:
        os.close(write_end)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert ws.calls() == []
