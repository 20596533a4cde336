"""wrapix-tui driving Ralph like a person, in tmux: a supervised loop answered with keys
(approve, skip, stop) and the plan review (edit in $EDITOR, reject, approve all).

The agent is the scripted fake (tests/ralph/fake_agent.py) run on the host; the engine,
store, locks, logs and the TUI are the real ones. Screens are written to
``$TUI_E2E_CAPTURES/<name>.txt`` when that variable is set.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.ralph.support import AGENT_CREDENTIALS, Workspace, complete, make_workspace
from tests.support.cli import script
from tests.support.tmux import Tmux, shell_env
from tests.tui.test_e2e_podman import capture, wrapix_vars

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

EDIT_SCRIPT = """\
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r"^Title: (.*)$", r"Title: \\1 (edited in review)", text, count=1, flags=re.M)
text = text.replace("Priority: 2", "Priority: 1", 1)
open(path, "w").write(text)
"""


def start_tui(ws: Workspace, tmp_path: Path, **extra: str) -> Tmux:
    env = {**wrapix_vars(), "WRAPIX_NOTIFY__BACKEND": "none",
           "PATH": ws.env()["PATH"], "WRAPIX_RALPH__HOST": "true",
           "WRAPIX_RALPH__WATCHDOG": "1", **AGENT_CREDENTIALS, **extra}
    tmux = Tmux(120, 40)
    # A shell runs the TUI (so its exit can be checked); the variables are given on the
    # command line too: a tmux server may replace PATH from its global environment.
    tmux.start("bash --norc --noprofile", env=shell_env(env), cwd=str(ws.root))
    tmux.wait_for("#" if os.getuid() == 0 else "$")  # the prompt
    assignments = " ".join(shlex.quote(f"{name}={value}") for name, value in env.items())
    tmux.type(f"env {assignments} {shlex.quote(script('wrapix-tui'))} "
              f"{shlex.quote(str(ws.root))}; echo tui-exit=$?")
    tmux.send("Enter")
    tmux.wait_for("notify: daemon hosted here", timeout=30)
    tmux.wait_for("Ralph · 1 spec", timeout=30)
    return tmux


def wait(tmux: Tmux, text: str, shot: str | None = None, timeout: float = 30.0,
         absent: bool = False) -> str:
    screen = tmux.wait_for(text, timeout=timeout, absent=absent)
    if shot:
        capture(shot, screen)
    return screen


def test_supervised_loop_approve_skip_stop(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "proj")
    first = ws.create("First", priority=1, description="Do **the first** thing.")
    second = ws.create("Second", priority=2)
    third = ws.create("Third", priority=3)
    ws.scenario(complete(None, 0, {"say": "Working on {ISSUE_ID} now."}))
    tmux = start_tui(ws, tmp_path)
    try:
        tmux.send("4")
        tmux.send("Down")
        wait(tmux, "READY — IN THE ORDER RALPH TAKES THEM (3)", "ralph-01-board")
        tmux.send("l")
        screen = wait(tmux, f"{first}  P1  First", "ralph-02-approval-first")
        assert "Step 1 · demo" in screen and "Approve (y)" in screen
        assert ws.calls() == []  # nothing runs before the answer
        tmux.send("y")
        wait(tmux, f"{second}  P2  Second", "ralph-03-approval-second")
        assert ws.worked() == [first]
        tmux.send("s")
        wait(tmux, f"{third}  P3  Third", "ralph-04-approval-third")
        tmux.send("x")
        screen = wait(tmux, f"loop demo: done 1 ({first}), parked 0", "ralph-05-after-stop")
        for line in (f"✓ {first} done", f"· skipped {second}", f"■ stopped before {third}"):
            assert line in screen, screen
        # The board afterwards: two ready in Ralph's order, one closed.
        wait(tmux, "READY — IN THE ORDER RALPH TAKES THEM (2)")
        screen = wait(tmux, "closed (1)", "ralph-06-board-after")  # the groups draw in turn
        assert "READY — IN THE ORDER RALPH TAKES THEM (2)" in screen, screen
        assert re.search(rf"1\. {re.escape(second)} P2", screen), screen
        assert re.search(rf"2\. {re.escape(third)} P3", screen), screen
        assert ws.worked() == [first]
        assert ws.issue(first)["status"] == "closed"
        assert ws.issue(second)["status"] == ws.issue(third)["status"] == "open"
        tmux.send("q")
        wait(tmux, "tui-exit=0")
    finally:
        tmux.close()


def test_review_edit_reject_and_approve_all(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "proj")
    base = ws.create("Parser", priority=2, labels=("rl-demo", "ralph:proposed"),
                     description="Parse the input.")
    needs = ws.create("Pretty errors", priority=2, labels=("rl-demo", "ralph:proposed"),
                      deps=[base])
    extra = ws.create("Extra flag", priority=3, labels=("rl-demo", "ralph:proposed"))
    editor = tmp_path / "edit.py"
    editor.write_text(EDIT_SCRIPT)
    tmux = start_tui(ws, tmp_path, EDITOR=f"{sys.executable} {editor}")
    try:
        tmux.send("4")
        tmux.send("Down")
        wait(tmux, "PROPOSED — AWAITING REVIEW (3)")
        tmux.send("v")
        screen = wait(tmux, "3 proposed issues await review", "review-01-screen")
        assert screen.index(base) < screen.index(needs)  # dependency order
        assert f"needed by   {needs}" in screen
        # Reject what another proposal needs: it asks first; no keeps it.
        tmux.send("r")
        wait(tmux, f"Reject {base}?", "review-02-reject-asks")
        tmux.send("n")
        wait(tmux, f"Reject {base}?", absent=True)
        # Edit in $EDITOR (the app is suspended around it), validated like the CLI.
        tmux.send("e")
        screen = wait(tmux, f"edited {base}", "review-03-edited")
        assert "Parser (edited in review)" in screen
        edited = ws.issue(base)
        assert edited["title"] == "Parser (edited in review)" and edited["priority"] == 1
        tmux.send("y")
        wait(tmux, f"approved {base}")
        tmux.send("Down")
        tmux.send("r")  # nothing depends on the last one: no question
        wait(tmux, f"rejected {extra}", "review-04-rejected")
        tmux.send("A")
        # The queue is read again after the decision and again when the board follows
        # the files; under load the two reads may be one. Either way it ends empty,
        # saying what comes next.
        screen = wait(tmux, "next: l on the board runs the loop", "review-05-done")
        assert "Nothing is proposed." in screen
        assert ws.issue(extra)["status"] == "closed"
        assert "ralph:proposed" not in ws.issue(needs).get("labels", [])
        tmux.send("Escape")
        screen = wait(tmux, "READY — IN THE ORDER RALPH TAKES THEM (1)", "review-06-board")
        assert "PROPOSED" not in screen
        tmux.send("q")
        wait(tmux, "tui-exit=0")
    finally:
        tmux.close()
