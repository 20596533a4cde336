"""P1: `wrapix-tui` start to first full frame, against a bare Textual app with a Header,
a DataTable and a Footer, measured the same way in the same run.

Both run in a real pseudo-terminal (120×40) as their own process and exit right after
their first full frame (`call_after_refresh(exit)` once mounted; wrapix-tui does it when
WRAPIX_TUI_EXIT_AFTER_FIRST_FRAME=1, before it loads settings or starts any worker, which
by design happens after the first frame). The time is spawn to exit: interpreter start,
imports, compose, first frame, shutdown. Runs alternate; the median of each is compared.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from benchmarks.harness import Context, Row, median, ratio_row

ID = "P1"
WHAT = "wrapix-tui start to first full frame (empty workspace)"
TARGET = 1.3
SIZE = (40, 120)  # rows, columns

BARE = """
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Bare(App):
    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        self.table = self.query_one(DataTable)
        self.table.add_columns("name", "state")
        self.call_after_refresh(self.exit)

Bare().run()
"""


def _in_pty(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 60.0
            ) -> tuple[float, bytes, float]:
    """Run ``argv`` on a fresh pseudo-terminal: (seconds from spawn to exit, output,
    CPU seconds the process used)."""
    import fcntl
    import struct

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                             cwd=cwd, start_new_session=True, close_fds=True)
    os.close(slave)
    output = bytearray()
    deadline = start + timeout
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif child.poll() is not None:
                break
            if time.perf_counter() > deadline:
                child.kill()
                raise RuntimeError(f"{argv[:3]} did not exit within {timeout}s: "
                                   f"{bytes(output)[-800:]!r}")
        _pid, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    finally:
        os.close(master)
    if child.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {child.returncode}: {bytes(output)[-500:]!r}")
    return elapsed, bytes(output), usage.ru_utime + usage.ru_stime


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")}
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[1]), LINES=str(SIZE[0]))
    for name in ("CONFIG", "STATE", "CACHE", "DATA", "RUNTIME"):
        path = root / name.lower()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[f"WRAPIX_{name}_DIR"] = str(path)
    return env


def run(ctx: Context) -> list[Row]:
    root = ctx.workdir / "p1"
    workspace = root / "empty-workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    env = _env(root)
    tui_env = {**env, "WRAPIX_TUI_EXIT_AFTER_FIRST_FRAME": "1"}
    bare = [sys.executable, "-c", BARE]
    tui = [sys.executable, "-m", "wrapix_tui", str(workspace)]
    here = Path(__file__).resolve().parents[2]
    # Warm the file cache and bytecode for both, then alternate.
    _, bare_out, _ = _in_pty(bare, env, root)
    _, tui_out, _ = _in_pty(tui, tui_env, here)
    if b"Sandboxes" not in tui_out or b"Inbox" not in tui_out:
        raise RuntimeError("wrapix-tui exited without drawing its dashboard")
    if b"state" not in bare_out:
        raise RuntimeError("the bare app exited without drawing its table")
    floor: list[float] = []
    value: list[float] = []
    floor_cpu: list[float] = []
    value_cpu: list[float] = []
    for _ in range(ctx.reps(11, 3)):
        seconds, _, cpu = _in_pty(bare, env, root)
        floor.append(seconds)
        floor_cpu.append(cpu)
        seconds, _, cpu = _in_pty(tui, tui_env, here)
        value.append(seconds)
        value_cpu.append(cpu)
    cpu_ratio = median(value_cpu) / median(floor_cpu)
    load = os.getloadavg()[0]
    # Wall time is the target; CPU time is shown too because on a loaded 2-core
    # machine the app that does more work is preempted more, which inflates the ratio.
    return [ratio_row(ID, WHAT, "bare Textual app (Header, DataTable, Footer)",
                      median(floor), median(value), TARGET,
                      note=f"median of {len(value)} alternating runs in a 120×40 pty; "
                           f"CPU-time ratio {cpu_ratio:.2f}×; load average {load:.1f}")]
