"""P5: `wrapix-notify` → the row in the running wrapix-tui's inbox pane (p95 ≤ 50 ms).

wrapix-tui runs in this process (headless, Textual's test driver, 120×40) and hosts the
notification daemon, as it does when none runs. Each notification is sent the way
``wrapix-notify`` sends it (the client's own ``resolve_target`` and ``send``, in a
thread); the time is from just before the send to the refresh that drew the new row
(``InboxPane.shown_at``). The process start of ``wrapix-notify`` itself is P6.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from benchmarks.harness import Context, Row, ms, p95

ID = "P5"
WHAT = "wrapix-notify → row in the inbox pane"
TIMEOUT = 5.0
LIMIT = 0.050


def _environment(root: Path) -> None:
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.environ[f"WRAPIX_{name}_DIR"] = str(path)
    os.environ["WRAPIX_NOTIFY__BACKEND"] = "none"


async def _measure(workspace: Path, count: int) -> list[float]:
    from wrapix_core.notify.client import resolve_target, send
    from wrapix_core.notify.protocol import Notification, encode
    from wrapix_tui.app import WrapixApp

    app = WrapixApp(workspace)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while app.daemon is None or not app.dashboard.inbox.following:
            if time.monotonic() > deadline:
                raise RuntimeError("wrapix-tui did not host the daemon")
            await pilot.pause(0.05)
        target = resolve_target(dict(os.environ))
        if target is None:
            raise RuntimeError("no notification socket to send to")
        inbox = app.dashboard.inbox
        await pilot.pause(0.3)
        for number in range(count):
            before = set(inbox.shown_at)
            line = encode(Notification(f"Bench {number}", "waiting for you",
                                       sandbox="wrapix-bench"))
            started = time.perf_counter()
            await asyncio.to_thread(send, line, target)
            limit = time.monotonic() + TIMEOUT
            while True:
                new = set(inbox.shown_at) - before
                if new:
                    latencies.append(inbox.shown_at[max(new)] - started)
                    break
                if time.monotonic() > limit:
                    raise RuntimeError(f"notification {number} never showed")
                await asyncio.sleep(0.001)
            await pilot.pause(0.02)
    return latencies


def run(ctx: Context) -> list[Row]:
    root = ctx.workdir / "p5"
    _environment(root / "dirs")
    workspace = root / "workspace"
    workspace.mkdir(parents=True)
    count = ctx.reps(60, 10)
    values = asyncio.run(_measure(workspace, count))
    value = p95(values)
    load = os.getloadavg()[0]
    return [Row(ID, f"{WHAT} (p95 of {count}, daemon hosted by the TUI; load {load:.1f})",
                "—", ms(value), ms(value), "p95 ≤ 50 ms", value <= LIMIT)]
