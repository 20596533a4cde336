"""P10: peak memory of `wrapix-tui` with 10,000 issues (and 200 specs), against a bare
Textual app (Header, DataTable, Footer), both in a 120×40 pty in the same run.

wrapix-tui runs until its Ralph board is loaded and drawn (every issue read, readiness
computed, the lists filled) and then exits; the bare app exits after its first frame.
The peak resident set size of each process (``VmHWM``, read every 10 ms while it runs)
is compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Context, Row, median
from benchmarks.scenarios.p01_startup import BARE, SIZE, _env
from benchmarks.scenarios.p02_board_startup import make_workspace

ID = "P10"
WHAT = "peak memory with 10,000 issues"
TARGET = 2.5


def _hwm(pid: int) -> int | None:
    """VmHWM (peak RSS of the process's current image, KiB), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _peak_rss(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Peak RSS in MiB of ``argv`` run on a fresh pty.

    Read from ``VmHWM`` while it runs (the high-water mark of its own image, monotonic),
    not from ``wait4``'s ``ru_maxrss``: on Linux that includes the RSS of the parent at
    fork time, i.e. of this benchmark process."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                             cwd=cwd, start_new_session=True, close_fds=True)
    os.close(slave)
    peak = 0
    try:
        while True:
            peak = max(peak, _hwm(child.pid) or 0)
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:
                    break
            elif child.poll() is not None:
                break
        _pid, status, usage = os.wait4(child.pid, 0)
    finally:
        os.close(master)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[:3]} failed")
    del usage
    return peak / 1024


def run(ctx: Context) -> list[Row]:
    root = ctx.workdir / "p2"  # the same generated workspace as P2 (made once)
    workspace = make_workspace(root / "big-workspace")
    env = _env(root)
    here = Path(__file__).resolve().parents[2]
    bare = [sys.executable, "-c", BARE]
    tui = [sys.executable, "-m", "wrapix_tui", str(workspace)]
    board = {**env, "WRAPIX_TUI_EXIT_AFTER_BOARD": "1"}
    floor, value = [], []
    for _ in range(ctx.reps(5, 2)):
        floor.append(_peak_rss(bare, env, root))
        value.append(_peak_rss(tui, board, here))
    ratio = median(value) / median(floor)
    return [Row(ID, f"{WHAT} (board loaded and drawn; median of {len(value)})",
                f"bare Textual app: {median(floor):.1f} MiB", f"{median(value):.1f} MiB",
                f"{ratio:.2f}×", f"≤ {TARGET:g}×", ratio <= TARGET)]
