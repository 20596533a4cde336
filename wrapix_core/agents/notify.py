"""``wrapix-notify --agent NAME [PAYLOAD]``: an agent's own hook payload as a notification.

Each agent calls its hook its own way: Codex appends the event's JSON as the last
argument, Gemini CLI writes it to standard input (and reads a JSON answer from standard
output), the opencode plugin appends the event type. Nothing in the payload is trusted:
only its event name picks the message; the agent's own text is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from wrapix_core.agents.registry import get

MAX_PAYLOAD = 1 << 20

MESSAGES: Mapping[str, str] = {
    "agent-turn-complete": "Turn finished",
    "AfterAgent": "Turn finished",
    "Notification": "Waiting for input...",
    "session.idle": "Turn finished",
    "permission.asked": "Waiting for input...",
    "permission.v2.asked": "Waiting for input...",
}


@dataclass(frozen=True)
class HookCall:
    title: str
    message: str
    reply: str = ""
    """What the hook must print on standard output (Gemini CLI reads JSON there)."""


def _event(payload: str) -> str:
    """The event name in a hook payload: a JSON object's ``type`` (Codex) or
    ``hook_event_name`` (Gemini CLI), else the word itself (the opencode plugin)."""
    text = payload.strip()
    if text.startswith("{"):
        try:
            data: Any = json.loads(text)
        except ValueError:
            return ""
        if isinstance(data, dict):
            for key in ("type", "hook_event_name"):
                if isinstance(data.get(key), str):
                    return str(data[key])
        return ""
    return text.split()[0] if text else ""


def hook_call(agent: str, args: list[str], stdin: IO[str] | None) -> HookCall:
    """The notification for one hook call of ``agent`` (ValueError: unknown agent)."""
    record = get(agent)
    if args:
        payload = args[-1]
    elif stdin is not None and record.name == "gemini":
        payload = stdin.read(MAX_PAYLOAD)
    else:
        payload = ""
    message = MESSAGES.get(_event(payload), "Waiting for input...")
    return HookCall(record.title, message, "{}" if record.name == "gemini" else "")
