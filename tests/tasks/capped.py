"""Running a snippet in a fresh interpreter with a memory cap and a time limit.

For tests of reads that must stay bounded (a link to /dev/zero, a FIFO): a regression
then fails fast with a MemoryError or a timeout instead of eating the machine.
"""

from __future__ import annotations

import subprocess
import sys

_CAP = ("import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n")


def run_capped(code: str, *args: str, timeout: float = 60) -> list[str]:
    """Run ``code`` (``sys.argv[1:]`` = ``args``) with 1 GiB of address space; its
    stdout lines. Fails the test when it does not exit 0."""
    done = subprocess.run([sys.executable, "-c", _CAP + code, *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout.splitlines()
