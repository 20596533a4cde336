"""Reading an agent's output: its final result, the signal in it, and readable lines.

Agents run with ``--output-format stream-json``: one JSON object per line, the last of
them the result record (``{"type": "result", "subtype": "success", "is_error": false,
"result": "…final message…", …}``). The signal is read **from that final result only**:
a transcript that quotes or discusses a signal earlier (the prompt itself lists them)
does not count. An agent that prints plain text instead is judged by its last
:data:`PLAIN_TAIL` non-empty lines.

A signal counts **anywhere** in that final text — at the start of a line, inline at the
end of a sentence, inside markdown decoration (``**WORK_COMPLETE**``, `` `WORK_COMPLETE` ``)
— as long as it is a whole word: ``NOT_WORK_COMPLETE`` or ``WORK_COMPLETED`` are other
identifiers and do not count (a letter or digit on either side, directly or joined by
``_``, disqualifies it; underscores alone are emphasis: ``_WORK_COMPLETE_`` counts).
The signals:

- ``INTERVIEW_COMPLETE``, ``READY_COMPLETE``, ``WORK_COMPLETE``, ``CHECK_COMPLETE`` (the
  reviewer of ``ralph check`` is done)
- ``RALPH_BLOCKED: reason`` and ``RALPH_CLARIFY: question`` (the text after the colon,
  to the end of the message)

When several appear, the last wins — except that a reason or a question runs to the end
of the message, so a completion signal *after* ``RALPH_BLOCKED:``/``RALPH_CLARIFY:`` is
part of that text ("RALPH_CLARIFY: should I still say WORK_COMPLETE if …?" is a
question). Finishing is never read out of a blocker's or a question's text; among
several blockers and questions the last one wins.

Because a mention counts, "I did not print WORK_COMPLETE" counts too: the price of
accepting inline signals (agents write them inline). ``ralph.check`` commands are the
guard against an agent that claims too much.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from wrapix_core.untrusted import ANSI_SEQUENCE

SignalKind = Literal["INTERVIEW_COMPLETE", "READY_COMPLETE", "WORK_COMPLETE", "CHECK_COMPLETE",
                     "RALPH_BLOCKED", "RALPH_CLARIFY"]
COMPLETE_SIGNALS = ("INTERVIEW_COMPLETE", "READY_COMPLETE", "WORK_COMPLETE", "CHECK_COMPLETE")
PLAIN_TAIL = 5
MAX_DETAIL = 4000

# A whole word: no letter or digit on either side, nor one joined by ``_`` or ``__``
# (``NOT_WORK_COMPLETE``); underscores alone are markdown emphasis (``_WORK_COMPLETE_``).
_WORD = r"(?<![A-Za-z0-9])(?<![A-Za-z0-9]_)(?<![A-Za-z0-9]__)"
_END = r"(?![A-Za-z0-9])(?!_[A-Za-z0-9])(?!__[A-Za-z0-9])"
_COMPLETE = re.compile(_WORD + "(" + "|".join(COMPLETE_SIGNALS) + ")" + _END)
_WITH_TEXT = re.compile(_WORD + r"(RALPH_BLOCKED|RALPH_CLARIFY)" + _END + r"[*_`]*[ \t]*:")


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    detail: str = ""
    """The reason (blocked) or question (clarify); empty for the completion signals."""


@dataclass(frozen=True)
class FinalResult:
    """What the agent said last."""

    text: str
    source: Literal["result", "plain", "none"]
    """``result``: a stream-json result record; ``plain``: the last lines of plain output;
    ``none``: stream-json output that ended without a result record."""
    is_error: bool = False
    subtype: str = ""


def _clean_detail(text: str) -> str:
    detail = text.strip().strip("*_`").strip()
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL].rstrip() + " …"
    return detail


def find_signal(text: str) -> Signal | None:
    """The signal of ``text`` (see the module docs), or None."""
    asked: re.Match[str] | None = None
    for match in _WITH_TEXT.finditer(text):
        asked = match
    if asked is not None:
        return Signal(asked.group(1),  # type: ignore[arg-type]
                      _clean_detail(text[asked.end():]) or "(no reason given)")
    done: re.Match[str] | None = None
    for match in _COMPLETE.finditer(text):
        done = match
    return Signal(done.group(1)) if done is not None else None  # type: ignore[arg-type]


def find_line_signal(text: str, kind: str) -> bool:
    """True when a line of ``text`` is the signal ``kind`` alone (decoration aside).

    For transcripts of interactive sessions, which have no result record: the prompt
    mentions the signal inside sentences, the agent prints it on a line of its own.
    """
    pattern = re.compile(r"^[\s>*_`#⏺●•-]*" + re.escape(kind) + r"[\s*_`.]*$", re.MULTILINE)
    return pattern.search(text) is not None


def strip_terminal(text: str) -> str:
    """Terminal output without escape sequences and carriage-return overdraws."""
    text = ANSI_SEQUENCE.sub("", text).replace("\r\n", "\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def _record(line: str) -> dict[str, Any] | None:
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("type"), str) else None


class OutputReader:
    """Feed it the agent's output lines; it keeps what judging the session needs."""

    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None
        self.json_lines = 0
        self._tail: deque[str] = deque(maxlen=PLAIN_TAIL)

    def feed(self, line: str) -> dict[str, Any] | None:
        """Take one line; returns it as a record when it is a stream-json record."""
        record = _record(line)
        if record is None:
            if line.strip():
                self._tail.append(line)
            return None
        self.json_lines += 1
        if record.get("type") == "result":
            self.result = record
        return record

    @property
    def saw_result(self) -> bool:
        return self.result is not None

    def final(self) -> FinalResult:
        if self.result is not None:
            text = self.result.get("result")
            return FinalResult(text if isinstance(text, str) else "", "result",
                               self.result.get("is_error") is True,
                               str(self.result.get("subtype") or ""))
        if self.json_lines:
            return FinalResult("", "none")
        return FinalResult(strip_terminal("\n".join(self._tail)), "plain")

    def signal(self) -> Signal | None:
        return find_signal(self.final().text)


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def readable(line: str) -> list[str]:
    """A person's view of one output line: assistant text, tool calls, the result.

    Plain lines come back as they are; records with nothing to show give ``[]``. The
    text is untrusted: escape it before printing (``wrapix_core.untrusted``).
    """
    record = _record(line)
    if record is None:
        return [strip_terminal(line)]
    kind = record.get("type")
    if kind == "assistant":
        message = record.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        shown: list[str] = []
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                shown.extend(block["text"].splitlines() or [""])
            elif block.get("type") == "tool_use":
                shown.append(f"→ {block.get('name', 'tool')} {_short(block.get('input', ''))}")
        return shown
    if kind == "system" and record.get("subtype") == "init":
        model = record.get("model")
        return [f"· session started{f' ({model})' if isinstance(model, str) else ''}"]
    if kind == "result":
        parts = [str(record.get("subtype") or "result")]
        if isinstance(record.get("num_turns"), int):
            parts.append(f"{record['num_turns']} turns")
        if isinstance(record.get("duration_ms"), int | float):
            parts.append(f"{record['duration_ms'] / 1000:.1f}s")
        text = record.get("result")
        return [f"· result: {', '.join(parts)}",
                *(text.splitlines() if isinstance(text, str) else [])]
    return []
