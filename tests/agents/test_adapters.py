"""Ralph's adapters: each agent's recorded output (``tests/ralph/fixtures/agents``, in
the agent's documented format) read for its final result and signal."""

from __future__ import annotations

from pathlib import Path

import pytest

from wrapix_core.agents import ralph as adapters
from wrapix_core.ralph.agent import agent_command, interactive_argv, print_argv
from wrapix_core.ralph.signals import OutputReader, readable
from wrapix_core.settings import RalphSettings

FIXTURES = Path(__file__).resolve().parent.parent / "ralph" / "fixtures" / "agents"
AGENTS = ("claude", "codex", "gemini", "opencode")


def read(agent: str, final: str, fixture: str | None = None) -> OutputReader:
    reader = OutputReader(agent)  # type: ignore[arg-type]
    text = (FIXTURES / f"{fixture or agent}.jsonl").read_text()
    for line in text.replace("__FINAL__", final.replace("\n", "\\n")).splitlines():
        reader.feed(line)
    return reader


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize(("final", "kind", "detail"), [
    ("All tests pass.\n\nWORK_COMPLETE", "WORK_COMPLETE", ""),
    ("RALPH_BLOCKED: the staging database is unreachable", "RALPH_BLOCKED",
     "the staging database is unreachable"),
    ("I need a decision. RALPH_CLARIFY: keep the v1 API?", "RALPH_CLARIFY", "keep the v1 API?"),
])
def test_recorded_outputs_close_block_and_clarify(agent: str, final: str, kind: str,
                                                  detail: str) -> None:
    reader = read(agent, final)
    result = reader.final()
    assert result.source == "result" and not result.is_error
    assert result.text.endswith(final)
    signal = reader.signal()
    assert signal is not None and signal.kind == kind and signal.detail == detail


@pytest.mark.parametrize("agent", AGENTS)
def test_signals_mentioned_before_the_final_message_do_not_count(agent: str) -> None:
    reader = read(agent, "Stopping here for now.")
    assert reader.final().source == "result"
    assert reader.signal() is None  # every fixture mentions one earlier


@pytest.mark.parametrize("agent", AGENTS)
def test_output_that_ends_before_the_final_record_has_no_result(agent: str) -> None:
    reader = OutputReader(agent)  # type: ignore[arg-type]
    lines = (FIXTURES / f"{agent}.jsonl").read_text().splitlines()
    for line in lines[:3]:  # opencode's: its text then a tool call, no step_finish
        reader.feed(line.replace("__FINAL__", "WORK_COMPLETE"))
    assert reader.final().source == "none" and reader.signal() is None


def test_opencode_without_its_last_step_finish_counts_its_last_text() -> None:
    reader = read("opencode", "WORK_COMPLETE", "opencode-no-finish")
    assert reader.final().source == "result" and reader.final().subtype == "no-step-finish"
    assert reader.signal() is not None and reader.signal().kind == "WORK_COMPLETE"  # type: ignore[union-attr]


def test_failed_turns_are_errors() -> None:
    codex = OutputReader("codex")
    for line in ('{"type":"turn.started"}', '{"type":"error","message":"Reconnecting... 1/5"}',
                 '{"type":"turn.failed","error":{"message":"401 Unauthorized"}}'):
        codex.feed(line)
    assert codex.final().is_error and codex.final().text == "401 Unauthorized"
    gemini = OutputReader("gemini")
    gemini.feed('{"type":"result","status":"error","error":{"type":"FatalAuthenticationError",'
                '"message":"invalid api key"}}')
    assert gemini.final().is_error and gemini.final().text == "invalid api key"
    opencode = OutputReader("opencode")
    opencode.feed('{"type":"error","sessionID":"s","error":{"name":"ProviderAuthError",'
                  '"data":{"message":"no credentials"}}}')
    assert opencode.final().is_error and opencode.final().subtype == "ProviderAuthError"


def test_a_second_turn_replaces_the_first_agent_message() -> None:
    reader = read("codex", "WORK_COMPLETE")
    for line in ('{"type":"turn.started"}',
                 '{"type":"item.completed","item":{"id":"i","type":"agent_message",'
                 '"text":"RALPH_BLOCKED: stuck"}}', '{"type":"turn.completed"}'):
        reader.feed(line)
    assert reader.results == 2 and reader.signal().kind == "RALPH_BLOCKED"  # type: ignore[union-attr]


def test_commands_per_agent() -> None:
    assert agent_command(RalphSettings(agent="codex"), env={}) == [
        "codex", "--dangerously-bypass-approvals-and-sandbox"]
    assert agent_command(RalphSettings(agent="gemini"), env={}) == ["gemini", "--yolo",
                                                                    "--skip-trust"]
    assert agent_command(RalphSettings(agent="x", agents={"step": "opencode"}), env={},
                         phase="step") == ["opencode", "--auto"]
    assert agent_command(RalphSettings(), env={"RALPH_AGENT": "/opt/bin/codex --yolo"}) == [
        "/opt/bin/codex", "--yolo"]
    assert print_argv(["codex", "--dangerously-bypass-approvals-and-sandbox"], "P") == [
        "codex", "exec", "--json", "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox", "P"]
    assert print_argv(["gemini", "--yolo"], "P") == ["gemini", "--yolo", "-p", "P",
                                                     "--output-format", "stream-json"]
    assert print_argv(["/usr/bin/opencode", "--auto"], "P") == [
        "/usr/bin/opencode", "run", "--format", "json", "--auto", "P"]
    assert print_argv(["claude", "--x"], "P") == [
        "claude", "--x", "-p", "P", "--output-format", "stream-json", "--verbose"]
    assert print_argv(["my-wrapper"], "P")[-3:] == ["--output-format", "stream-json",
                                                   "--verbose"]  # Claude's format
    assert interactive_argv(["gemini", "--yolo"], "P") == ["gemini", "--yolo",
                                                          "--prompt-interactive", "P"]
    assert interactive_argv(["opencode", "--auto"], "P") == ["opencode", "--auto", "--prompt",
                                                            "P"]
    assert interactive_argv(["codex"], "P") == ["codex", "P"]
    assert adapters.adapter_name(["/x/gemini"]) == "gemini"


@pytest.mark.parametrize(("agent", "shown"), [
    ("codex", "Plan: edit the file"), ("gemini", "I'll check the tree first"),
    ("opencode", "Checking the tree"), ("claude", "I will say WORK_COMPLETE"),
])
def test_people_see_each_agents_messages_and_tool_calls(agent: str, shown: str) -> None:
    lines = [text for line in (FIXTURES / f"{agent}.jsonl").read_text().splitlines()
             for text in readable(line.replace("__FINAL__", "the end"))]
    assert any(shown in text for text in lines), lines
    assert any(text.startswith("→ ") for text in lines), lines  # the tool call
    assert any("the end" in text for text in lines)
