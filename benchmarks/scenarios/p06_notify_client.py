"""P6: `wrapix-notify` wall time against the original client, `jq -cn … | nc -U -N`.

Both send one notification to the same running `wrapix-notifyd` (popups off), runs
interleaved so drift hits both alike; the result compares medians. Python's own start-up
is measured alongside (`python -c pass`, and `-I -S`, which a console script cannot use)
to show how much of the client's time is the interpreter.

This machine sets ``PYTHONDONTWRITEBYTECODE=1``, so an editable install recompiles
wrapix's modules on every run; an installed wheel (as in the sandbox image) has ``.pyc``
files. The measured row therefore lets Python cache bytecode (in a private
``PYTHONPYCACHEPREFIX``, nothing is written to the repository); the note gives the
number without bytecode as well.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import Context, Row, Unavailable, ms, p95, ratio_row

ID = "P6"
WHAT = "wrapix-notify wall time"

FLOOR = ("printf '%s\\n' \"$(jq -cn --arg t T --arg m M '{title:$t,message:$m}')\" "
         "| nc -U -N \"$SOCK\"")


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise Unavailable(f"{name} is not installed in this venv (pip install -e .)")
    return str(path)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, timeout=30)
    return time.perf_counter() - start


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPIX_")}
    for name in ("RUNTIME", "STATE", "CONFIG", "CACHE", "DATA"):
        (base / name).mkdir(parents=True, exist_ok=True)
        env[f"WRAPIX_{name}_DIR"] = str(base / name)
    env["WRAPIX_NOTIFY__BACKEND"] = "none"
    return env


def _wait_for_socket(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.is_socket():
        if time.monotonic() > deadline:
            raise Unavailable("wrapix-notifyd did not start")
        time.sleep(0.01)


def run(ctx: Context) -> list[Row]:
    for tool in ("jq", "nc"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed (the floor needs jq and netcat-openbsd)")
    notify, notifyd = _bin("wrapix-notify"), _bin("wrapix-notifyd")
    base = ctx.workdir / "p06"
    env = _env(base)
    sock = base / "RUNTIME" / "notify.sock"
    env["SOCK"] = str(sock)
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    uncached = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    daemon = subprocess.Popen([notifyd, "--foreground"], env=env, stderr=subprocess.DEVNULL)
    try:
        _wait_for_socket(sock)
        floor_argv = ["sh", "-c", FLOOR]
        ours_argv = [notify, "T", "M"]
        reps = ctx.reps(40, 5)
        floor, ours, ours_uncached = [], [], []
        for _ in range(2):  # warm the page cache and write the bytecode cache
            _timed(floor_argv, env)
            _timed(ours_argv, cached)
        for _ in range(reps):
            floor.append(_timed(floor_argv, env))
            ours.append(_timed(ours_argv, cached))
            ours_uncached.append(_timed(ours_argv, uncached))
        bare = statistics.median(_timed([sys.executable, "-c", "pass"], cached)
                                 for _ in range(reps))
        isolated = statistics.median(_timed([sys.executable, "-I", "-S", "-c", "pass"],
                                            cached) for _ in range(reps))
    finally:
        daemon.terminate()
        daemon.wait(10)
    floor_median, ours_median = statistics.median(floor), statistics.median(ours)
    note = (f"medians of {reps}, interleaved; wrapix-notify p95 {ms(p95(ours))}, "
            f"without .pyc {ms(statistics.median(ours_uncached))}; `python -c pass` alone "
            f"{ms(bare)}, `python -I -S -c pass` {ms(isolated)}")
    return [ratio_row(ID, WHAT, "jq -cn … \\| nc -U -N", floor_median, ours_median, 1.5,
                      note)]
