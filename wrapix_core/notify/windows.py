"""Which desktop window (Linux, niri) or application (macOS) has the focus.

The launcher records it when a sandbox starts in a terminal (that terminal is focused
then); the daemon compares it with the focus when a notification arrives. A probe
returns a string id, ``None`` when nothing is focused, and raises
:class:`WindowProbeError` when it cannot tell.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from typing import Protocol

from wrapix_core import proc

TIMEOUT = 1.0

_FRONTMOST = ('tell application "System Events" to get name of first application process '
              "whose frontmost is true")


class WindowProbeError(Exception):
    """The window system could not be asked (not running, hung, unexpected answer)."""


class WindowProbe(Protocol):
    @property
    def name(self) -> str: ...

    def argv(self) -> list[str]: ...

    def parse(self, stdout: str) -> str | None: ...


@dataclass(frozen=True)
class NiriProbe:
    """``niri msg --json focused-window``: a window object with an ``id``, or null."""

    executable: str = "niri"
    name: str = "niri"

    def argv(self) -> list[str]:
        return [self.executable, "msg", "--json", "focused-window"]

    def parse(self, stdout: str) -> str | None:
        try:
            data = json.loads(stdout)
        except ValueError:
            raise WindowProbeError(f"niri answered something that is not JSON: "
                                   f"{stdout[:80]!r}") from None
        if data is None:
            return None
        if not isinstance(data, dict) or "id" not in data:
            raise WindowProbeError("niri's focused-window answer has no id")
        return str(data["id"])


@dataclass(frozen=True)
class FrontmostAppProbe:
    """macOS: the name of the frontmost application (the terminal, when focused)."""

    executable: str = "osascript"
    name: str = "macOS frontmost application"

    def argv(self) -> list[str]:
        return [self.executable, "-e", _FRONTMOST]

    def parse(self, stdout: str) -> str | None:
        return stdout.strip() or None


def default_probe(platform: str = sys.platform) -> WindowProbe | None:
    """The probe for this desktop, or None when there is none to ask."""
    if platform == "darwin":
        found = shutil.which("osascript")
        return FrontmostAppProbe(found) if found else None
    found = shutil.which("niri")
    return NiriProbe(found) if found else None


async def focused(probe: WindowProbe) -> str | None:
    try:
        done = await proc.run(probe.argv(), timeout=TIMEOUT)
    except proc.ProcError as exc:
        raise WindowProbeError(str(exc)) from None
    return probe.parse(done.stdout)


def focused_sync(probe: WindowProbe) -> str | None:
    try:
        done = proc.run_sync(probe.argv(), timeout=TIMEOUT)
    except proc.ProcError as exc:
        raise WindowProbeError(str(exc)) from None
    return probe.parse(done.stdout)
