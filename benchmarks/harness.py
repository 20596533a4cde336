"""Benchmark plumbing: each scenario measures its own floor in the same run.

Absolute times drift between runs on these machines, so every target in docs/architecture.md is
judged against a floor measured right next to it. A scenario module in
``benchmarks/scenarios/`` defines ``ID`` (e.g. "P9"), ``WHAT``, and
``run(ctx) -> list[Row]``; it may raise :class:`Unavailable` (say why) when a
prerequisite such as rootless Podman is missing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class Unavailable(Exception):
    """The scenario cannot run here; the message says what is missing."""


@dataclass
class Context:
    quick: bool = False
    """Fewer repetitions (a smoke run, e.g. in tests)."""
    workdir: Path = field(default_factory=lambda: Path("/tmp"))

    def reps(self, full: int, quick: int = 3) -> int:
        return quick if self.quick else full


@dataclass
class Row:
    id: str
    what: str
    floor: str
    measured: str
    result: str
    target: str
    ok: bool
    note: str = ""


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def samples(fn: Callable[[], object], count: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    return [timed(fn) for _ in range(count)]


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio_row(id: str, what: str, floor_name: str, floor: float, value: float,
              limit: float, note: str = "") -> Row:
    """A row for a "≤ limit × floor" target (times in seconds)."""
    ratio = value / floor if floor > 0 else float("inf")
    return Row(id, what, f"{floor_name}: {ms(floor)}", ms(value), f"{ratio:.2f}×",
               f"≤ {limit:g}×", ratio <= limit, note)
