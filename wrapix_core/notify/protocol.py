"""The notification wire protocol: one JSON object per line (docs/architecture.md, Notifications).

``title`` and ``message`` are required strings; ``sound``, ``session_id``, ``sandbox``
and ``kind`` are optional strings (or null); any other field is ignored, so older and
newer clients interoperate. A line longer than :data:`MAX_LINE` bytes, invalid UTF-8,
invalid JSON or a wrong shape is rejected with a :class:`ProtocolError` that says why.

Everything here is pure and total: whatever bytes arrive, :func:`parse_line` returns a
:class:`Notification` or raises :class:`ProtocolError`, and :class:`LineFramer` never
holds more than :data:`MAX_LINE` bytes per connection. The daemon relies on that to
never die of input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_LINE = 64 * 1024
"""Longest accepted line in bytes, without its newline."""

OPTIONAL_FIELDS = ("sound", "session_id", "sandbox", "kind")


class ProtocolError(ValueError):
    """A line that is not a valid notification; the message says why (for the log)."""


@dataclass(frozen=True, slots=True)
class Notification:
    """One valid request, exactly as the client sent it (no sanitising: stored faithfully)."""

    title: str
    message: str
    sound: str | None = None
    session_id: str | None = None
    sandbox: str | None = None
    kind: str | None = None

    def to_json(self) -> dict[str, str]:
        """The wire form: required fields plus the optional ones that are set."""
        data = {"title": self.title, "message": self.message}
        for name in OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


def encode(notification: Notification) -> bytes:
    """One protocol line (with its newline) for ``notification``."""
    return json.dumps(notification.to_json()).encode() + b"\n"


def _optional(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        # The original client always sent "sound": "" — empty means "not given".
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"field '{name}' must be a string, not {type(value).__name__}")
    return value


def parse_line(raw: bytes) -> Notification:
    """Decode one line (without its newline) into a :class:`Notification`."""
    if len(raw) > MAX_LINE:
        raise ProtocolError(f"line of {len(raw)} bytes exceeds the {MAX_LINE}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"invalid UTF-8 at byte {exc.start}") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ProtocolError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and int digit limits
        raise ProtocolError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object, got {type(data).__name__}")
    for name in ("title", "message"):
        if name not in data:
            raise ProtocolError(f"missing required field '{name}'")
        if not isinstance(data[name], str):
            raise ProtocolError(
                f"field '{name}' must be a string, not {type(data[name]).__name__}")
    return Notification(
        title=data["title"],
        message=data["message"],
        sound=_optional(data, "sound"),
        session_id=_optional(data, "session_id"),
        sandbox=_optional(data, "sandbox"),
        kind=_optional(data, "kind"),
    )


@dataclass(frozen=True, slots=True)
class Oversized:
    """Marker for a line that exceeded :data:`MAX_LINE` (its bytes were discarded)."""

    size: int
    """Bytes seen before the framer gave up on it (at least ``MAX_LINE + 1``)."""


class LineFramer:
    """Splits a byte stream into lines, bounding memory per connection.

    Feed it chunks as they arrive; it returns complete lines (without the newline) and
    an :class:`Oversized` marker for each line longer than ``max_line``. The rest of an
    oversized line is skipped up to its newline, so the next line parses normally.
    Blank lines are dropped. :meth:`finish` returns the unterminated tail at end of
    stream (a client that closes without a final newline still gets through).
    """

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = 0
        """Bytes of an oversized line skipped so far (0: not skipping)."""

    @property
    def incomplete(self) -> bool:
        """Whether part of a line has arrived without its newline."""
        return bool(self._buffer) or self._discarding > 0

    def feed(self, data: bytes) -> list[bytes | Oversized]:
        out: list[bytes | Oversized] = []
        start = 0
        while start < len(data):
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline
            piece = data[start:end]
            if self._discarding:
                self._discarding += len(piece)
            elif len(self._buffer) + len(piece) > self.max_line:
                self._discarding = len(self._buffer) + len(piece)
                self._buffer.clear()
            else:
                self._buffer += piece
            if newline < 0:
                break
            # a complete line ends here
            if self._discarding:
                out.append(Oversized(self._discarding))
                self._discarding = 0
            elif self._buffer.strip():
                out.append(bytes(self._buffer))
            self._buffer.clear()
            start = newline + 1
        return out

    def finish(self) -> list[bytes | Oversized]:
        """End of stream: the unterminated last line, if any."""
        out: list[bytes | Oversized] = []
        if self._discarding:
            out.append(Oversized(self._discarding))
        elif self._buffer.strip():
            out.append(bytes(self._buffer))
        self._buffer.clear()
        self._discarding = 0
        return out
