"""P4: `podman stop` of a sandbox → its row in the running wrapix-tui shows it stopped
(p95 ≤ floor + 300 ms).

Real rootless Podman (run as the unprivileged user): busybox sandboxes started by
``wrapix run --detach`` (P9's helpers), each stopped once from outside with
``podman stop -t 0``. wrapix-tui runs in this process (headless, Textual's test driver,
120×40) on a workspace of its own, so the sandboxes are rows it saw running. The time is
from just before the stop is issued to the refresh that drew the row's new state (the
benchmark wraps the pane's ``render_rows`` and stamps, after the next refresh, the first
render whose state cell for that container says ``exited``/``stopped``). Floor, for the
same stops: a separate ``podman events`` reader (the argv the app's event stream uses, in
a thread) timestamping the first ``died``/``stop`` event of the container. One warm-up
stop, not counted. Every container is removed after.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Context, Row, median, ms, p95
from benchmarks.scenarios.p05_inbox import _environment
from benchmarks.scenarios.p09_launch import _env, _launch, _podman, _remove, _workspace

ID = "P4"
WHAT = "podman stop of a sandbox → row shows it stopped"
LIMIT = 0.300
"""Seconds over the floor's p95."""
TIMEOUT = 15.0
STOPPED = frozenset({"exited", "stopped"})
SPREAD = 0.5
"""Seconds over which the pause between stops varies. ``podman events`` with the file
event logger (Podman 4.3 here) sees a new event only at its next poll of the file, so
both readers' latencies depend on when the stop falls in their own polling cycle; with a
fixed pause every stop would fall at about the same phase, and one run would be
consistently lucky or unlucky."""
GOLDEN = 0.6180339887
DOWN_EVENTS = frozenset({"died", "stop"})
"""The events the pane turns into a stopped row (``sandbox_rows.EVENT_STATE``)."""


class _EventsReader:
    """``podman events`` in a thread: when each container's first died/stop was read."""

    def __init__(self, podman: str) -> None:
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [podman, "events", "--format", "json", "--filter", "type=container"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            now = time.perf_counter()
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and item.get("Status") in DOWN_EVENTS:
                with self._lock:
                    self.seen.setdefault(str(item.get("Name", "")), now)

    def get(self, name: str) -> float | None:
        with self._lock:
            return self.seen.get(name)

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._thread.join(timeout=5)


def _sandboxes(podman: str, root: Path) -> dict[str, str]:
    """Workspace path → container name, for the containers launched under ``root``."""
    listed = json.loads(subprocess.run([podman, "ps", "-a", "--format", "json"],
                                       capture_output=True, text=True, check=True,
                                       timeout=120).stdout)
    found = {}
    prefix = f"{root.resolve()}/"
    for item in listed:
        workspace = (item.get("Labels") or {}).get("wrapix.workspace", "")
        if workspace.startswith(prefix):
            found[workspace] = item["Names"][0]
    return found


def _cleanup(podman: str, root: Path) -> None:
    for name in _sandboxes(podman, root).values():
        _remove(podman, name)


def _stop(podman: str, name: str) -> float:
    started = time.perf_counter()
    subprocess.run([podman, "stop", "-t", "0", name], check=True, capture_output=True,
                   timeout=60)
    return started


def _state(pane: Any, name: str) -> str:
    try:
        cell = pane.table.get_cell(name, "state")
    except Exception:  # no such row (yet)
        return ""
    return str(getattr(cell, "plain", cell))


async def _measure(workspace: Path, podman: str, names: list[str], events: _EventsReader
                   ) -> tuple[list[float], list[float]]:
    from wrapix_tui.app import WrapixApp

    app = WrapixApp(workspace)
    floors: list[float] = []
    values: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.dashboard.sandboxes
        deadline = time.monotonic() + 60
        while not (app.hub is not None and app.hub.status is not None
                   and app.hub.status.connected and pane.state.listed
                   and all(_state(pane, name) == "running" for name in names)):
            if time.monotonic() > deadline:
                raise RuntimeError("wrapix-tui did not list the running sandboxes: "
                                   f"{ {name: _state(pane, name) for name in names} }")
            await pilot.pause(0.05)

        shown: dict[str, float] = {}
        scheduled: set[str] = set()
        render = pane.render_rows

        def stamp(name: str) -> None:
            shown.setdefault(name, time.perf_counter())

        def render_rows() -> None:
            render()
            for name in names:
                if name not in scheduled and _state(pane, name) in STOPPED:
                    scheduled.add(name)
                    pane.call_after_refresh(stamp, name)

        pane.render_rows = render_rows  # type: ignore[method-assign]
        await pilot.pause(0.5)
        for number, name in enumerate(names):  # the first one is a warm-up, not counted
            started = await asyncio.to_thread(_stop, podman, name)
            limit = time.monotonic() + TIMEOUT
            while name not in shown or events.get(name) is None:
                if time.monotonic() > limit:
                    raise RuntimeError(f"stopping {name}: row shown {name in shown}, "
                                       f"event read {events.get(name) is not None}, "
                                       f"row state {_state(pane, name)!r}")
                await asyncio.sleep(0.005)
            if number > 0:
                seen = events.get(name)
                assert seen is not None
                floors.append(seen - started)
                values.append(shown[name] - started)
            # The listing that follows the events settles; the varying part puts each
            # stop at a different phase of podman's event-file polling (see SPREAD).
            await pilot.pause(0.5 + SPREAD * (number * GOLDEN % 1.0))
    return floors, values


def run(ctx: Context) -> list[Row]:
    podman = _podman()
    root = ctx.workdir / "p4"
    _environment(root)
    env = _env(root)
    tui_workspace = root / "tui-workspace"
    tui_workspace.mkdir(parents=True, exist_ok=True)
    count = ctx.reps(12, 3)
    _cleanup(podman, root)
    events: _EventsReader | None = None
    try:
        workspaces = [_workspace(root, f"ws{number:02d}", None) for number in range(count + 1)]
        for workspace in workspaces:
            _launch(env, workspace, None)
        launched = _sandboxes(podman, root)
        names = [launched[str(workspace.resolve())] for workspace in workspaces]
        events = _EventsReader(podman)
        floors, values = asyncio.run(_measure(tui_workspace, podman, names, events))
    finally:
        if events is not None:
            events.close()
        _cleanup(podman, root)
    floor, value = p95(floors), p95(values)
    load = os.getloadavg()[0]
    return [Row(ID, f"{WHAT} (p95 of {count} `podman stop -t 0`, TUI in-process; "
                    f"load {load:.1f})",
                f"podman events p95: {ms(floor)}", ms(value),
                f"floor {'+' if value >= floor else '−'} {ms(abs(value - floor))}",
                "p95 ≤ floor + 300 ms", value <= floor + LIMIT,
                note=f"medians: row {ms(median(values))}, events {ms(median(floors))}")]
