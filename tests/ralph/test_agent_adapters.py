"""`ralph step` end to end with each agent's adapter: the fake agent installed as
``codex``, ``gemini`` or ``opencode`` takes that agent's command and replays its recorded
output (``fixtures/agents``) with the final message the test chooses; the real engine,
issue store and logs judge it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ralph.support import Workspace, install_agent, respond

AGENTS = ("codex", "gemini", "opencode")
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "agents"


def replaying(agent: str, final: str) -> dict[str, object]:
    return respond({"replay": str(FIXTURES / f"{agent}.jsonl"), "final": final})


@pytest.mark.parametrize("agent", AGENTS)
def test_complete_closes_the_issue(ws: Workspace, agent: str) -> None:
    install_agent(ws.bin, agent)
    issue = ws.create("Parse the config")
    ws.scenario(replaying(agent, "All done.\nWORK_COMPLETE"))
    done = ws.ralph("step", RALPH_AGENT=agent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"✓ {issue} done" in done.stdout
    assert ws.issue(issue)["status"] == "closed"
    [call] = ws.calls()
    batch = {"codex": ["exec", "--json", "--skip-git-repo-check",
                       "--dangerously-bypass-approvals-and-sandbox"],
             "gemini": ["--yolo", "--skip-trust", "-p"],
             "opencode": ["run", "--format", "json", "--auto"]}[agent]
    assert call["argv"][:len(batch)] == batch
    shown = ws.ralph("logs", issue).stdout
    assert "All done." in shown and '"type"' not in shown  # records read for people


@pytest.mark.parametrize("agent", AGENTS)
def test_blocked_parks_the_issue_with_the_reason(ws: Workspace, agent: str) -> None:
    install_agent(ws.bin, agent)
    issue = ws.create("Migrate the database")
    ws.scenario(replaying(agent, "RALPH_BLOCKED: the staging database is unreachable"))
    done = ws.ralph("step", RALPH_AGENT=agent, WRAPIX_RALPH__RETRIES="0")
    assert done.returncode == 1, done.stdout + done.stderr
    stored = ws.issue(issue)
    assert stored["status"] == "open" and "ralph:clarify" in stored["labels"]
    assert "staging database is unreachable" in stored["notes"]
    assert len(ws.calls()) == 1


@pytest.mark.parametrize("agent", AGENTS)
def test_clarify_parks_the_question(ws: Workspace, agent: str) -> None:
    install_agent(ws.bin, agent)
    issue = ws.create("Pick a storage engine")
    ws.scenario(replaying(agent, "I need a decision.\nRALPH_CLARIFY: Postgres or SQLite?"))
    done = ws.ralph("step", RALPH_AGENT=agent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"? {issue} asks: Postgres or SQLite?" in done.stdout
    stored = ws.issue(issue)
    assert stored["status"] == "open" and "ralph:clarify" in stored["labels"]
    assert stored["notes"].rstrip().endswith("Postgres or SQLite?")


def test_a_phase_may_name_another_agent(ws: Workspace) -> None:
    install_agent(ws.bin, "codex")
    issue = ws.create("Parse the config")
    ws.scenario(replaying("codex", "WORK_COMPLETE"))
    done = ws.ralph("step", WRAPIX_RALPH__AGENTS__STEP="codex")  # plan/ready stay Claude
    assert done.returncode == 0, done.stdout + done.stderr
    assert ws.issue(issue)["status"] == "closed"
    assert ws.calls()[0]["argv"][0] == "exec"
