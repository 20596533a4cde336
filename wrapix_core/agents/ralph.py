"""Ralph's adapter per agent: its non-interactive command and the parser that finds the
final result in its machine-readable output (the signal rule reads that text only).

The formats, as each agent documents them (fixtures in ``tests/ralph/fixtures/agents``
follow these shapes; the README's table of agents says where each is documented):

- Claude Code, ``-p PROMPT --output-format stream-json --verbose``: the last record is
  ``{"type": "result", "subtype": …, "is_error": …, "result": "final text"}``.
- Codex, ``exec --json PROMPT``: JSONL events ``thread.started``, ``turn.started``,
  ``item.started/updated/completed`` (an ``item`` of type ``agent_message`` carries
  ``text``), then ``turn.completed`` (or ``turn.failed`` with ``error.message``); an
  ``error`` event is a stream-level error. The final text: the last agent message of
  the turn that completed.
- Gemini CLI, ``-p PROMPT --output-format stream-json``: ``init``, ``message`` (``role``,
  ``content``, ``delta: true`` for chunks), ``tool_use``, ``tool_result``, ``error``, then
  ``result`` (``status`` ``success`` or ``error`` with ``error.message``). The final text:
  the assistant's message after its last tool call.
- opencode, ``run --format json PROMPT``: events ``step_start``, ``text`` (``part.text``),
  ``tool_use``, ``step_finish`` (``part.reason``: ``tool-calls`` while it goes on, else
  the run is over) and ``error``. The final text: the text of the last step. opencode
  sometimes ends without the last ``step_finish`` (its issue 26855): then text the
  output ended with (no tool call after it) counts; a crash is still judged by its exit
  code.

Pure: no I/O, nothing of Ralph's imported (Ralph's reader wraps these).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from wrapix_core.agents.registry import AGENTS, NAMES, AgentName, by_command

CLAUDE_PRINT = ("--output-format", "stream-json", "--verbose")


@dataclass
class Final:
    """What the agent said last, as its parser found it."""

    text: str = ""
    done: bool = False
    """The agent's final record arrived (the watchdog starts then)."""
    is_error: bool = False
    subtype: str = ""


@dataclass
class Parser:
    """Feed it one JSON record at a time; :attr:`final` holds the result so far."""

    agent: AgentName
    final: Final = field(default_factory=Final)
    _text: str = ""
    _last_message: str = ""

    def feed(self, record: dict[str, Any]) -> bool:
        """Take a record; True when it is the final one (the result)."""
        kind = record.get("type")
        handler = getattr(self, f"_{self.agent}")
        done: bool = handler(kind, record)
        if done:
            self.final.done = True
        return done

    def ended(self) -> Final:
        """The result once the output ended (opencode's missing last step counted)."""
        if not self.final.done and self.agent == "opencode" and self._text.strip():
            return Final(self._text, True, False, "no-step-finish")
        return self.final

    # -- one method per agent -----------------------------------------------------------
    def _claude(self, kind: Any, record: dict[str, Any]) -> bool:
        if kind != "result":
            return False
        text = record.get("result")
        self.final = Final(text if isinstance(text, str) else "", True,
                           record.get("is_error") is True, str(record.get("subtype") or ""))
        return True

    def _codex(self, kind: Any, record: dict[str, Any]) -> bool:
        item = record.get("item")
        if kind == "item.completed" and isinstance(item, dict) \
                and item.get("type") == "agent_message" and isinstance(item.get("text"), str):
            self._last_message = item["text"]
        elif kind == "turn.started":
            self._last_message = ""
        elif kind == "turn.completed":
            self.final = Final(self._last_message, True, False, "success")
            return True
        elif kind == "turn.failed":
            self.final = Final(_message(record.get("error")) or self._last_message, True,
                               True, "turn.failed")
            return True
        elif kind == "error":
            self.final = Final(_message(record) or _message(record.get("error")), False,
                               True, "error")
        return False

    def _gemini(self, kind: Any, record: dict[str, Any]) -> bool:
        if kind == "message" and record.get("role") == "assistant":
            content = record.get("content")
            if isinstance(content, str):
                self._text = self._text + content if record.get("delta") else content
        elif kind in ("tool_use", "tool_result"):
            self._text = ""
        elif kind == "result":
            failed = record.get("status") not in ("success", None)
            error = _message(record.get("error"))
            self.final = Final(self._text if not failed or not error else error, True, failed,
                               str(record.get("status") or "success"))
            return True
        return False

    def _opencode(self, kind: Any, record: dict[str, Any]) -> bool:
        part = record.get("part") if isinstance(record.get("part"), dict) else {}
        assert isinstance(part, dict)
        if kind == "step_start":
            self._text = ""
        elif kind == "text" and isinstance(part.get("text"), str):
            self._text += part["text"]
        elif kind == "tool_use":
            self._text = ""  # what it said before a tool call is not its answer
        elif kind == "step_finish" and part.get("reason") != "tool-calls":
            self.final = Final(self._text, True, False, str(part.get("reason") or "stop"))
            return True
        elif kind == "error":
            error = record.get("error")
            data = error.get("data") if isinstance(error, dict) else None
            name = error.get("name") if isinstance(error, dict) else None
            self.final = Final(_message(data) or _message(error) or "error", True, True,
                               str(name or "error"))
            return True
        return False


def _message(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return str(value["message"])
    return value if isinstance(value, str) else ""


# -- commands -----------------------------------------------------------------------------
def adapter_name(agent: list[str] | tuple[str, ...]) -> AgentName:
    """The adapter for an agent argv: by its program's name (``codex``, ``gemini``,
    ``opencode``); anything else speaks Claude's stream-json."""
    found = by_command(PurePath(agent[0]).name) if agent else None
    return found.name if found is not None else "claude"


def default_command(name: AgentName) -> list[str]:
    """A bare agent name as a command: its program with its full-permission flags."""
    agent = AGENTS[name]
    return [agent.command, *agent.full_permission]


def expand(argv: list[str]) -> list[str]:
    """``["codex"]`` (a setting naming just an agent) becomes its default command."""
    if len(argv) == 1 and argv[0] in NAMES:
        return default_command(argv[0])
    return argv


def print_argv(agent: list[str], prompt: str) -> list[str]:
    """A non-interactive session with machine-readable output."""
    name = adapter_name(agent)
    if name == "codex":
        return [agent[0], "exec", "--json", "--skip-git-repo-check", *agent[1:], prompt]
    if name == "gemini":
        return [*agent, "-p", prompt, "--output-format", "stream-json"]
    if name == "opencode":
        return [agent[0], "run", "--format", "json", *agent[1:], prompt]
    return [*agent, "-p", prompt, *CLAUDE_PRINT]


def interactive_argv(agent: list[str], prompt: str) -> list[str]:
    """An interactive session on the terminal, starting from ``prompt``."""
    name = adapter_name(agent)
    if name == "gemini":
        return [*agent, "--prompt-interactive", prompt]
    if name == "opencode":
        return [*agent, "--prompt", prompt]
    return [*agent, prompt]


# -- a person's view of a record ----------------------------------------------------------
def short(value: Any, limit: int = 120) -> str:
    """``value`` on one line, cut to ``limit`` characters (a tool call's input)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def readable(record: dict[str, Any]) -> list[str] | None:
    """Codex, Gemini CLI and opencode records for people (None: not one of theirs)."""
    kind = record.get("type")
    item = record.get("item")
    part = record.get("part")
    if isinstance(kind, str) and kind.startswith(("thread.", "turn.", "item.")):
        if kind == "item.completed" and isinstance(item, dict):
            if item.get("type") == "agent_message" and isinstance(item.get("text"), str):
                return item["text"].splitlines() or [""]
            if item.get("type") == "command_execution":
                return [f"→ {short(item.get('command', 'command'))}"]
            return []
        if kind == "turn.failed":
            return [f"· turn failed: {_message(record.get('error'))}"]
        if kind == "turn.completed":
            return ["· turn completed"]
        return []
    if kind == "init" and "session_id" in record:
        model = record.get("model")
        return [f"· session started{f' ({model})' if isinstance(model, str) else ''}"]
    if kind == "message" and "role" in record:
        content = record.get("content")
        if record.get("role") != "assistant" or not isinstance(content, str):
            return []
        return [content] if record.get("delta") else content.splitlines() or [""]
    if kind == "tool_use" and "tool_name" in record:
        return [f"→ {record.get('tool_name')} {short(record.get('parameters', ''))}"]
    if kind == "result" and "status" in record and "result" not in record:
        return [f"· result: {record.get('status')}"]
    if isinstance(part, dict) and kind in ("step_start", "text", "tool_use", "step_finish"):
        if kind == "text" and isinstance(part.get("text"), str):
            return part["text"].splitlines() or [""]
        if kind == "tool_use":
            return [f"→ {part.get('tool', 'tool')}"]
        if kind == "step_finish" and part.get("reason") != "tool-calls":
            return [f"· result: {part.get('reason') or 'stop'}"]
        return []
    if kind in ("tool_result", "error"):
        return [f"· error: {_message(record.get('error')) or _message(record)}"] \
            if kind == "error" else []
    return None
