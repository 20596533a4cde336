"""`ralph step` end to end with the fake agent on the host: every way a session can end."""

from __future__ import annotations

import json
import subprocess
import time

from tests.ralph.support import (
    Workspace,
    complete,
    final,
    process_gone,
    respond,
    wait_until,
)
from tests.support.cli import script


def test_complete_closes_the_issue_and_logs_the_session(ws: Workspace) -> None:
    first = ws.create("Parse the config", priority=1, description="Read TOML. {{LABEL}} stays.")
    ws.create("Write the docs", priority=3)
    ws.scenario(complete())
    done = ws.ralph("step")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"✓ {first} done" in done.stdout
    assert ws.issue(first)["status"] == "closed"
    [call] = ws.calls()
    assert call["issue"] == first  # the highest priority went first
    assert call["argv"][:2] == ["--dangerously-skip-permissions", "-p"]
    assert call["argv"][-3:] == ["--output-format", "stream-json", "--verbose"]
    prompt = call["prompt"]
    assert "Read TOML. {{LABEL}} stays." in prompt  # inlined, never expanded
    assert "`specs/demo.md`" in prompt and "`specs/README.md`" in prompt  # by path
    assert "wrapix tasks show" in prompt  # no bd here: the built-in store's command
    [log] = ws.logs()
    assert log.name.startswith(f"{first}-") and log.suffix == ".log"
    raw = log.read_text()
    assert '"type": "result"' in raw and f"[ralph] {first} attempt 1 of 3" in raw
    shown = ws.ralph("logs", first)
    assert shown.returncode == 0
    assert f"Implementing {first}." in shown.stdout
    assert "WORK_COMPLETE" in shown.stdout
    assert '"type"' in ws.ralph("logs", first, "--raw").stdout


def test_blocked_retries_with_the_failure_then_parks_for_clarify(ws: Workspace) -> None:
    issue = ws.create("Migrate the database")
    ws.scenario(final("RALPH_BLOCKED: the staging database is unreachable", times=0))
    done = ws.ralph("step")
    assert done.returncode == 1
    calls = ws.calls()
    assert len(calls) == 3  # 1 + 2 retries
    assert "Previous attempt" not in calls[0]["prompt"]
    for call in calls[1:]:
        assert ("The previous attempt failed: blocked: the staging database is unreachable"
                in call["prompt"])
    stored = ws.issue(issue)
    assert stored["status"] == "open"
    assert "ralph:clarify" in stored["labels"]
    assert "gave up" in stored["notes"] and "staging database is unreachable" in stored["notes"]
    assert "failed after 3 attempts" in done.stdout
    log_text = ws.logs()[0].read_text()
    assert "attempt 3 of 3" in log_text  # attempts share the step's log


def test_clarify_parks_the_question_and_notifies(ws: Workspace) -> None:
    issue = ws.create("Pick a storage engine")
    ws.scenario(final("I need a decision.\nRALPH_CLARIFY: Postgres or SQLite?"))
    daemon = subprocess.Popen([script("wrapix-notifyd"), "--foreground"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert daemon.stdout is not None
        for line in daemon.stdout:
            if "listening on" in line:
                break
        done = ws.ralph("step")
        inbox: list[dict[str, str]] = []

        def arrived() -> bool:
            listed = subprocess.run([script("wrapix"), "inbox", "--json"], capture_output=True,
                                    text=True, timeout=60, check=True)
            inbox[:] = json.loads(listed.stdout)
            return bool(inbox)

        wait_until(arrived, what="the clarify notification")
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"? {issue} asks: Postgres or SQLite?" in done.stdout
    stored = ws.issue(issue)
    assert stored["status"] == "open"
    assert "ralph:clarify" in stored["labels"]
    assert stored["notes"].rstrip().endswith("Postgres or SQLite?")
    [note] = inbox
    assert note["kind"] == "ralph-clarify"
    assert issue in note["title"] and "Postgres or SQLite?" in note["message"]
    assert len(ws.calls()) == 1  # a question is not retried


def test_no_signal_is_retried_and_parked(ws: Workspace) -> None:
    issue = ws.create("Refactor")
    ws.scenario(final("I refactored some of it.", times=0))
    done = ws.ralph("step")
    assert done.returncode == 1
    assert len(ws.calls()) == 3
    assert "the agent's final message has no signal" in ws.issue(issue)["notes"]


def test_an_agent_that_exits_non_zero_is_a_failure(ws: Workspace) -> None:
    issue = ws.create("Crashy")
    ws.scenario(respond({"say": "about to crash"}, {"text": "Segmentation fault"},
                        {"exit": 3}, times=0))
    done = ws.ralph("step")
    assert done.returncode == 1
    notes = ws.issue(issue)["notes"]
    assert "the agent exited with code 3" in notes
    assert "Segmentation fault" in ws.logs()[0].read_text()  # stderr and stdout logged


def test_a_success_result_followed_by_a_crash_is_not_trusted(ws: Workspace) -> None:
    issue = ws.create("Half done")
    ws.scenario(respond({"result": "WORK_COMPLETE"}, {"exit": 1}, times=1), complete())
    done = ws.ralph("step")
    assert done.returncode == 0
    assert len(ws.calls()) == 2  # retried, and the retry completed
    assert ws.issue(issue)["status"] == "closed"


def test_an_agent_hanging_after_its_result_is_ended_by_the_watchdog(ws: Workspace) -> None:
    issue = ws.create("Hangs around")
    ws.scenario(respond({"say": "done"}, {"result": "WORK_COMPLETE"},
                        {"hang": 120, "ignore_term": True}))
    started = time.time()
    done = ws.ralph("step", timeout=60)
    ended = time.time()
    assert done.returncode == 0, done.stdout + done.stderr
    result_at = ws.result_time(1)
    assert ended - result_at < 5, f"step returned {ended - result_at:.1f}s after the result"
    assert ended - started < 10
    assert ws.issue(issue)["status"] == "closed"
    assert "kept running 1s after its final result" in ws.logs()[0].read_text()
    pid = ws.calls()[0]["pid"]
    wait_until(lambda: process_gone(pid), 10, "the hanging agent to be ended")


def test_signal_text_mid_transcript_does_not_count(ws: Workspace) -> None:
    issue = ws.create("Tricky transcript")
    ws.scenario(respond({"say": "WORK_COMPLETE"},
                        {"say": "Actually, wait: I am not sure."},
                        {"result": "RALPH_CLARIFY: Should the limit be per user or global?"}))
    done = ws.ralph("step")
    assert done.returncode == 0
    stored = ws.issue(issue)
    assert stored["status"] == "open"  # not closed by the early WORK_COMPLETE
    assert "ralph:clarify" in stored["labels"]
    assert "per user or global?" in stored["notes"]


def test_nothing_left_exits_100(ws: Workspace) -> None:
    ws.scenario(complete())
    done = ws.ralph("step")
    assert done.returncode == 100
    assert "nothing to do: no issues labelled rl-demo" in done.stdout
    issue = ws.create("Only one")
    ws.tasks("close", issue)
    done = ws.ralph("step")
    assert done.returncode == 100
    assert "all 1 issue of rl-demo are closed" in done.stdout
    assert ws.calls() == []


def test_stuck_exits_101_and_says_why(ws: Workspace) -> None:
    outside = ws.create("Outside blocker", labels=())
    ws.create("Waits for the outside", deps=[outside])
    asked = ws.create("Has a question", labels=("rl-demo", "ralph:clarify"))
    ws.scenario(complete())
    done = ws.ralph("step")
    assert done.returncode == 101, done.stdout
    assert "stuck: 2 open, none ready" in done.stdout
    assert f"1 issue waits for an answer ({asked})" in done.stdout
    assert "1 issue blocked by dependencies" in done.stdout
    assert ws.calls() == []


def test_an_epic_closes_with_its_last_child_only(ws: Workspace) -> None:
    epic = ws.create("The epic", issue_type="epic")
    first = ws.create("Child one", parent=epic, priority=1, labels=())
    second = ws.create("Child two", parent=epic, priority=2, labels=())
    ws.scenario(complete(times=0))
    assert ws.ralph("step").returncode == 0
    assert ws.issue(first)["status"] == "closed"
    assert ws.issue(epic)["status"] == "open"  # partial: the epic stays open
    done = ws.ralph("step")
    assert done.returncode == 0
    assert f"{second} done; closed epic {epic}" in done.stdout
    assert ws.issue(epic)["status"] == "closed"
    assert ws.worked() == [first, second]  # the epic itself is never worked
    assert ws.ralph("step").returncode == 100


def test_untrusted_agent_output_is_escaped(ws: Workspace) -> None:
    ws.create("Escape \x1b]0;pwned\x07 me")
    ws.scenario(respond({"say": "\x1b[2J\x1b[31mred\x1b[0m"}, {"result": "WORK_COMPLETE"}))
    done = ws.ralph("step")
    assert done.returncode == 0
    assert "\x1b" not in done.stdout
    assert "\\x1b]0;pwned\\x07" in done.stdout


def test_children_the_agent_leaves_behind_are_ended_with_it(ws: Workspace) -> None:
    """A host-mode agent that leaves `sleep 1000 &` holding its output: the step ends
    soon after the agent exits (not at the watchdog or the step timeout) and the sleep
    is gone, although the agent itself had already exited."""
    issue = ws.create("Leaves a child")
    ws.scenario(respond({"background": ["sleep", "1000"], "pid_file": "bg.pid"},
                        {"say": "done"}, {"result": "Tested. WORK_COMPLETE"}))
    started = time.time()
    done = ws.ralph("step", timeout=60, WRAPIX_RALPH__WATCHDOG="300")
    took = time.time() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert took < 15, f"the step took {took:.1f}s"
    sleeper = int((ws.fake_dir / "bg.pid").read_text())
    wait_until(lambda: process_gone(sleeper), 5, "the agent's background child to be ended")
    assert "processes it started still held its output: ended them" in \
        ws.logs()[0].read_text()
