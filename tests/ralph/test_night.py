"""An unattended night (issue 17): inline signals, loops that go on past failures,
checks before "done", hooks, and agents that cannot log in (issue 14 item 8). The fake
agent runs on the host; test_sandbox_real.py runs the same in real sandboxes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.ralph.support import Workspace, complete, final, respond

CHECK = """\
import pathlib, sys
count = pathlib.Path(sys.argv[1])
runs = int(count.read_text()) + 1 if count.exists() else 1
count.write_text(str(runs))
print(f"check run {runs}")
if runs == 1:
    print("FAILED test_parser.py::test_empty - AssertionError: expected []")
    sys.exit(1)
print("3 passed")
"""

RECORD = ("import json, os, sys; open(sys.argv[1], 'a').write(json.dumps({k: v for k, v in "
          "os.environ.items() if k.startswith('RALPH_')}) + '\\n')")


def write_config(ws: Workspace, text: str) -> None:
    (ws.ralph_dir / "config.toml").write_text(text)


def test_an_inline_signal_closes_the_issue_on_the_first_attempt(ws: Workspace) -> None:
    issue = ws.create("Inline")
    ws.scenario(final("Implemented it and all tests pass, so **WORK_COMPLETE**."))
    done = ws.ralph("step")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert len(ws.calls()) == 1


def test_a_loop_goes_on_past_a_failure_and_a_question(ws: Workspace) -> None:
    ids = [ws.create(f"Issue {n}", priority=1) for n in range(1, 6)]
    ws.scenario(final("no idea what to do", "Issue 2", times=0),
                final("RALPH_CLARIFY: which colour?", "Issue 4"),
                complete(times=0))
    done = ws.ralph("loop")
    assert done.returncode == 1, done.stdout + done.stderr
    first, second, third, fourth, fifth = ids
    assert ws.worked() == [first, second, second, second, third, fourth, fifth]
    assert [ws.issue(i)["status"] for i in ids] == ["closed", "open", "closed", "open",
                                                    "closed"]
    assert "ralph:clarify" in ws.issue(second)["labels"]
    assert "final message has no signal" in ws.issue(second)["notes"]
    assert "which colour?" in ws.issue(fourth)["notes"]
    out = done.stdout
    assert (f"loop demo: done 3 ({first}, {third}, {fifth}), parked 1 ({second}), "
            f"asked 1 ({fourth}), skipped 0") in out
    assert "exit 1 (a step failed)" in out
    assert "ended: stuck" in out  # the parked and the asked issue wait for a person


def test_pause_on_failure_stops_at_the_first_failed_issue(ws: Workspace) -> None:
    first = ws.create("First", priority=0)
    second = ws.create("Second", priority=1)
    ws.scenario(final("no idea", "First", times=0), complete(times=0))
    done = ws.ralph("loop", WRAPIX_RALPH__PAUSE_ON_FAILURE="true")
    assert done.returncode == 1
    assert set(ws.worked()) == {first}
    assert ws.issue(second)["status"] == "open"
    assert f"parked 1 ({first})" in done.stdout


def test_a_check_that_fails_once_then_passes(ws: Workspace, tmp_path: Path) -> None:
    issue = ws.create("Checked")
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    counter = tmp_path / "check-count"
    write_config(ws, f"check = [{json.dumps([sys.executable, str(script), str(counter)])}, "
                     f"{json.dumps(sys.executable + ' -c ' + repr('print(42)'))}]\n")
    ws.scenario(complete(times=0))
    done = ws.ralph("step")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    calls = ws.calls()
    assert len(calls) == 2  # the check failed after the first WORK_COMPLETE
    assert "the check" in calls[1]["prompt"] and "failed (exit 1)" in calls[1]["prompt"]
    assert "FAILED test_parser.py::test_empty" in calls[1]["prompt"]  # its output's tail
    assert counter.read_text() == "2"
    log = ws.logs()[0].read_text()
    assert "[check] FAILED test_parser.py::test_empty" in log
    assert "[check] 3 passed" in log and "[check] 42" in log
    assert "▷ check" in done.stdout and "✗ check" in done.stdout and "✓ check" in done.stdout


def test_a_check_that_always_fails_parks_the_issue(ws: Workspace) -> None:
    issue = ws.create("Never passes")
    write_config(ws, 'check = ["false"]\n')
    ws.scenario(complete(times=0))
    done = ws.ralph("step")
    assert done.returncode == 1
    assert len(ws.calls()) == 3
    stored = ws.issue(issue)
    assert "ralph:clarify" in stored["labels"]
    assert "the check `false` failed (exit 1)" in stored["notes"]


def test_hooks_record_their_environment(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    hook = [sys.executable, "-c", RECORD, str(out)]
    (ws.root / "wrapix.toml").write_text(
        "[ralph.hooks]\n" + "".join(f"{name} = {json.dumps(hook)}\n" for name in
                                    ("pre_loop", "pre_step", "post_step", "post_loop")))
    first = ws.create("One", priority=0)
    second = ws.create("Two", priority=1)
    ws.scenario(complete(times=0))
    done = ws.ralph("loop")
    assert done.returncode == 100, done.stdout + done.stderr
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert [env["RALPH_HOOK"] for env in seen] == [
        "pre_loop", "pre_step", "post_step", "pre_step", "post_step", "post_loop"]
    assert all(env["RALPH_LABEL"] == "demo" for env in seen)
    assert all(env["RALPH_WORKSPACE"] == str(ws.root.resolve()) for env in seen)
    pre, post = seen[1], seen[2]
    assert pre["RALPH_ISSUE"] == first and pre["RALPH_OUTCOME"] == "pending"
    assert post["RALPH_ISSUE"] == first and post["RALPH_OUTCOME"] == "completed"
    assert post["RALPH_ATTEMPTS"] == "1" and post["RALPH_ISSUE_TITLE"] == "One"
    assert Path(post["RALPH_LOG"]).name.startswith(first)
    assert "WORK_COMPLETE" in Path(post["RALPH_LOG"]).read_text()
    assert seen[4]["RALPH_ISSUE"] == second
    assert seen[5]["RALPH_DONE"] == f"{first} {second}" and seen[5]["RALPH_EXIT"] == "100"
    assert "▷ hook pre_step — host" in done.stdout


def test_a_failing_pre_step_hook_skips_the_issue(ws: Workspace, tmp_path: Path) -> None:
    gate = tmp_path / "gate.py"
    gate.write_text("import os, sys\nif os.environ['RALPH_ISSUE_TITLE'] == 'Gated':\n"
                    "    print('the branch is dirty'); sys.exit(3)\n")
    (ws.root / "wrapix.toml").write_text(
        f"[ralph.hooks]\npre_step = {json.dumps([sys.executable, str(gate)])}\n")
    gated = ws.create("Gated", priority=0)
    free = ws.create("Free", priority=1)
    ws.scenario(complete(times=0))
    done = ws.ralph("loop")
    assert ws.worked() == [free]
    stored = ws.issue(gated)
    assert stored["status"] == "open"
    assert "the pre_step hook failed (exit 3)" in stored["notes"]
    assert "the branch is dirty" in stored["notes"]
    assert f"skipped 1 ({gated})" in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr  # skipped, nothing failed


def test_hooks_are_refused_in_ralphs_config_file(ws: Workspace) -> None:
    write_config(ws, '[hooks]\npost_step = ["sh", "-c", "touch pwned"]\n')
    ws.create("One")
    done = ws.ralph("step")
    assert done.returncode != 0
    assert "hooks run on this machine" in done.stderr
    assert not (ws.root / "pwned").exists() and not ws.calls()


def test_post_step_runs_after_failures_only_when_asked(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    hook = json.dumps([sys.executable, "-c", RECORD, str(out)])
    (ws.root / "wrapix.toml").write_text(f"[ralph.hooks]\npost_step = {hook}\n")
    ws.create("Fails")
    ws.scenario(final("no idea", times=0))
    assert ws.ralph("step").returncode == 1
    assert not out.exists()
    (ws.root / "wrapix.toml").write_text(
        f"[ralph]\nhooks_on_failure = true\n[ralph.hooks]\npost_step = {hook}\n")
    ws.ralph("msg", "-n", "1", "-d")
    assert ws.ralph("step").returncode == 1
    [env] = [json.loads(line) for line in out.read_text().splitlines()]
    assert env["RALPH_OUTCOME"] == "failed" and "no signal" in env["RALPH_REASON"]


def test_no_credentials_is_one_clear_error_and_no_issue_touched(ws: Workspace,
                                                                 tmp_path: Path) -> None:
    issue = ws.create("Needs the agent")
    before = ws.issue(issue)
    config = tmp_path / "claude-config"
    config.mkdir()
    ws.scenario(complete())
    done = ws.ralph("loop", ANTHROPIC_API_KEY="", CLAUDE_CODE_OAUTH_TOKEN="",
                    CLAUDE_CONFIG_DIR=str(config))
    assert done.returncode == 2  # a missing prerequisite: nothing was started
    assert "the agent (claude) has no credentials on this machine (--host)" in done.stderr
    assert "CLAUDE_CODE_OAUTH_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert not ws.calls()
    assert ws.issue(issue) == before
    # a login file is enough
    (config / ".credentials.json").write_text("{}")
    again = ws.ralph("step", ANTHROPIC_API_KEY="", CLAUDE_CODE_OAUTH_TOKEN="",
                     CLAUDE_CONFIG_DIR=str(config))
    assert again.returncode == 0, again.stdout + again.stderr


def test_not_logged_in_is_not_retried_and_shows_the_agents_words(ws: Workspace) -> None:
    first = ws.create("First", priority=0)
    second = ws.create("Second", priority=1)
    ws.scenario(respond({"result": "Not logged in · Please run /login", "is_error": True},
                        {"exit": 1}, times=0))
    done = ws.ralph("loop", timeout=60)
    assert done.returncode == 1
    assert len(ws.calls()) == 1  # not retried, and the loop did not take the next issue
    stored = ws.issue(first)
    assert stored["status"] == "open" and "ralph:clarify" not in stored["labels"]
    assert "Not logged in · Please run /login" in stored["notes"]
    assert '{"' not in stored["notes"] and '"type"' not in done.stdout
    assert ws.issue(second)["status"] == "open"
    status = ws.ralph("status")
    assert "agent:    the agent cannot work: Not logged in" in status.stdout
    assert "Not logged in · Please run /login" in status.stdout
    as_json = json.loads(ws.ralph("status", "--json").stdout)
    assert as_json["agent_error"]["message"].endswith("Not logged in · Please run /login")


def test_a_failure_message_quotes_the_agent_not_its_json(ws: Workspace) -> None:
    issue = ws.create("Errors")
    ws.scenario(respond({"say": "trying"},
                        {"result": "API Error: 529 overloaded, try again later",
                         "is_error": True}, {"exit": 1}, times=0))
    assert ws.ralph("step").returncode == 1
    notes = ws.issue(issue)["notes"]
    assert "the agent exited with code 1: API Error: 529 overloaded" in notes
    assert '{"type"' not in notes
    assert len(ws.calls()) == 3  # an overloaded API may recover: retried
    msg = ws.ralph("msg")
    assert "API Error: 529 overloaded" in msg.stdout and '{"' not in msg.stdout
