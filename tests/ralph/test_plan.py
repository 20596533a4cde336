"""`ralph plan`: the interview on a real terminal (tmux), the fake agent as interviewer."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.ralph.support import Workspace, make_workspace, respond
from tests.support.cli import script
from tests.support.tmux import Tmux

SPEC_TEMPLATE = ("# Word counter\n\nCounts words.\n\n## Requirements\n\n### Functional\n"
                 "1. {goal}\n\n## Success Criteria\n\n- [ ] {goal}\n\n## Out of Scope\n\n"
                 "- {scope}\n")


def interviewer(finish: bool = True) -> dict[str, object]:
    actions: list[dict[str, object]] = [
        {"text": "Hello, I am the fake interviewer."},
        {"ask": "What should the demo feature do?", "save": "goal"},
        {"ask": "What is out of scope?", "save": "scope"},
    ]
    if finish:
        actions += [{"write": {"path": "specs/demo.md", "content": SPEC_TEMPLATE}},
                    {"text": "I wrote specs/demo.md."}, {"text": "INTERVIEW_COMPLETE"}]
    else:
        actions += [{"text": "Let us continue another day."}]
    return respond(*actions, phase="plan")


@pytest.fixture
def planning(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "proj", spec=None)


@pytest.mark.tmux
def test_plan_interview_through_a_terminal_writes_the_spec(planning: Workspace) -> None:
    ws = planning
    ws.scenario(interviewer())
    tmux = Tmux(width=120, height=40)
    # the pane's shell may reset PATH from a profile: pass the environment explicitly
    env = [f"{key}={value}" for key, value in ws.env().items()
           if key == "PATH" or key.startswith(("WRAPIX_", "RALPH_"))]
    try:
        tmux.start(shlex.join(["env", *env, script("ralph"), "plan"]) + "; echo EXIT=$?",
                   cwd=str(ws.root))
        tmux.wait_for("What should the demo feature do?")
        tmux.type("Count the words in a file")
        tmux.send("Enter")
        tmux.wait_for("What is out of scope?")
        tmux.type("Counting lines")
        tmux.send("Enter")
        screen = tmux.wait_for("EXIT=")
    finally:
        tmux.close()
    assert "interview complete: the spec is specs/demo.md" in screen
    assert "EXIT=0" in screen
    assert "Count the words in a file" in screen  # the terminal echoed what was typed
    spec = (ws.root / "specs" / "demo.md").read_text()
    assert "1. Count the words in a file" in spec and "- Counting lines" in spec
    [call] = ws.calls()
    assert call["interactive"] is True and call["phase"] == "plan"
    assert "-p" not in call["argv"]
    assert call["argv"][-1].startswith("# Ralph plan: demo")
    [log] = (ws.ralph_dir / "logs").glob("plan-*.log")
    logged = log.read_text(errors="replace")
    assert "What should the demo feature do?" in logged and "Counting lines" in logged
    state = json.loads((ws.ralph_dir / "state" / "demo.json").read_text())
    assert state["iterations"]["plan"] == 1
    status = ws.ralph("status")
    assert "Word counter" in status.stdout and "criteria 0/1" in status.stdout


def test_an_unfinished_interview_exits_1_and_says_how_to_go_on(planning: Workspace) -> None:
    ws = planning
    ws.scenario(interviewer(finish=False))
    done = ws.ralph("plan", input="A thing\nNothing\n")
    assert done.returncode == 1
    assert "the interview did not complete" in done.stdout
    assert "continue it with `ralph plan`" in done.stdout
    assert not (ws.root / "specs" / "demo.md").exists()
    # the prompt quoted the signal inside a sentence: that does not count as the signal
    assert "INTERVIEW_COMPLETE" in ws.calls()[0]["prompt"]
