"""The engine as the TUI calls it: typed events, an awaitable approve callback, results."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.ralph.support import FAKE_AGENT, Workspace, complete, final
from wrapix_core.ralph.agent import agent_command
from wrapix_core.ralph.engine import Engine
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.events import (
    AgentLine,
    Decision,
    EngineEvent,
    LoopEnded,
    OutputTail,
    StepEnded,
    StepOutcome,
    StepProposal,
    StepStarted,
)
from wrapix_core.settings import RalphSettings


@pytest.fixture
def host_env(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for name, value in ws.env().items():
        if name in ("PATH", "WRAPIX_RALPH__HOST", "WRAPIX_RALPH__WATCHDOG",
                    "ANTHROPIC_API_KEY"):
            monkeypatch.setenv(name, value)
    return ws


async def test_loop_events_and_an_async_approve_callback(host_env: Workspace) -> None:
    ws = host_env
    first = ws.create("First", priority=1)
    second = ws.create("Second", priority=2)
    ws.scenario(complete(times=0))
    events: list[EngineEvent] = []
    asked: list[StepProposal] = []

    async def approve(proposal: StepProposal) -> Decision:
        asked.append(proposal)
        await asyncio.sleep(0)  # a modal would await the person here
        return Decision.SKIP if proposal.issue.id == first else Decision.APPROVE

    engine = Engine(ws.root, on_event=events.append)
    result = await engine.loop(approve=approve)
    assert result.worked == (second,)
    assert result.final is not None and result.final.outcome == StepOutcome.SKIPPED
    assert result.exit_code == 0
    assert [proposal.issue.id for proposal in asked] == [first, second]
    assert asked[0].spec_path == "specs/demo.md" and asked[0].spec_title == "Demo feature"
    assert asked[0].ready == 2 and asked[1].ready == 1
    started = [event for event in events if isinstance(event, StepStarted)]
    assert [(event.issue.id, event.attempt, event.where) for event in started] == [
        (second, 1, "host")]
    tail = OutputTail()
    for event in events:
        if isinstance(event, AgentLine):
            assert event.issue_id == second
            tail.add(event)
    assert f"Implementing {second}." in tail.lines
    ended = [event.result.outcome for event in events if isinstance(event, StepEnded)]
    assert ended == [StepOutcome.COMPLETED, StepOutcome.SKIPPED]
    assert isinstance(events[-1], LoopEnded)


async def test_step_result_carries_the_question(host_env: Workspace) -> None:
    ws = host_env
    issue = ws.create("Ask")
    ws.scenario(final("RALPH_CLARIFY: left or right?"))
    result = await Engine(ws.root).step()
    assert result.outcome == StepOutcome.CLARIFY
    assert result.issue is not None and result.issue.id == issue
    assert result.reason == "left or right?"
    assert result.log is not None and result.log.is_file()
    assert result.hint == f"answer with `ralph msg -i {issue} -a ANSWER`"


async def test_two_engines_in_one_process_share_nothing_but_the_issues(
        host_env: Workspace) -> None:
    ws = host_env
    ids = {ws.create(f"Issue {number}") for number in range(4)}
    ws.scenario(complete(times=0))
    results = await asyncio.gather(Engine(ws.root).loop(), Engine(ws.root).loop())
    worked = [issue for result in results for issue in result.worked]
    assert sorted(worked) == sorted(ids)
    assert len(worked) == len(set(worked))


def test_agent_command_from_the_setting_and_ralph_agent() -> None:
    settings = RalphSettings()
    assert agent_command(settings, {}) == ["claude", "--dangerously-skip-permissions"]
    assert agent_command(settings, {"RALPH_AGENT": "my agent 'with space' $HOME;rm"}) == [
        "my", "agent", "with space", "$HOME;rm"]  # split like a shell, never run by one
    with pytest.raises(RalphError, match="RALPH_AGENT is not a valid command line"):
        agent_command(settings, {"RALPH_AGENT": "broken 'quote"})
    with pytest.raises(RalphError, match="is empty"):
        agent_command(RalphSettings(agent="  "), {})


def test_ralph_agent_runs_the_named_command(ws: Workspace, tmp_path: Path) -> None:
    issue = ws.create("Via RALPH_AGENT")
    ws.scenario(complete())
    agent = f"{sys.executable} {FAKE_AGENT} --model fake"
    done = ws.ralph("step", RALPH_AGENT=agent, PATH=os.defpath)
    assert done.returncode == 0, done.stdout + done.stderr
    [call] = ws.calls()
    assert call["argv"][:2] == ["--model", "fake"]
    assert ws.issue(issue)["status"] == "closed"


def test_a_missing_agent_puts_the_issue_back(ws: Workspace) -> None:
    issue = ws.create("No agent")
    done = ws.ralph("step", RALPH_AGENT="no-such-agent-xyz")
    assert done.returncode == 1
    assert "cannot run the agent: no-such-agent-xyz" in done.stdout
    stored = ws.issue(issue)
    assert stored["status"] == "open" and "ralph:clarify" not in stored["labels"]


def test_host_flag_overrides_the_sandbox_setting(ws: Workspace) -> None:
    issue = ws.create("On the host")
    ws.scenario(complete())
    done = ws.ralph("step", "--host", WRAPIX_RALPH__HOST="false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"▶ {issue} [P2] On the host — host" in done.stdout
    assert ws.calls()[0]["cwd"] == str(ws.root)
