"""CPU and memory of a remote host's sandboxes, as that host's Podman reports them.

Its processes cannot be read from here, so the host's Podman is asked: one
``podman --url … stats --no-stream --format json NAMES`` per sampling round. Rootless
Podman on cgroup v1 cannot report stats at all; such a host is asked ``podman top NAME
hpid pcpu etime rss`` per container instead (Podman reads the container's ``/proc`` on
the host: nothing in the sandbox runs), a few at a time. Either way one answer only tells
a container's average CPU since it started; :class:`Rates` turns the CPU seconds of two
successive rounds into the CPU of the last one.

Whatever a host answers is untrusted: only the containers asked about count, and a value
that is not a sane number leaves that container unsampled (its cells show ``-``);
nothing here raises on a bad answer.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wrapix_core.sandbox.runtime import ContainerStats

STATS_ARGS = ("stats", "--no-stream", "--format", "json")
TOP_DESCRIPTORS = ("hpid", "pcpu", "etime", "rss")
"""Podman's own descriptors (psgo, not the container's ``ps``): host pid, CPU % over the
process's life, its age (a Go duration) and its resident memory in KiB."""
NEEDS_CGROUP_V2 = "cgroup v2"
"""In Podman's answer when rootless stats cannot be had (``… only available for cgroup
v2``): then :data:`TOP_DESCRIPTORS` it is."""
TOP_CONCURRENCY = 4
MAX_CPU = 100.0 * 4096
MAX_BYTES = 1 << 60
MAX_ANSWER = 4 << 20
"""Bytes of a host's answer parsed at most (a stats line is ~300 bytes)."""

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2,
          "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "p": 1000**5,
          "pb": 1000**5, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
          "pib": 1024**5}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\Z", re.IGNORECASE)
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*%?\Z")
_DURATION = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?"
                       r"(?:([0-9]+(?:\.[0-9]+)?)(s|ms|µs|us|ns))?\Z")
_DURATION_UNIT = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def _number(value: Any, parse: Callable[[str], float | None]) -> float | None:
    """A JSON number, or a short string ``parse`` reads; finite, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float | None = float(value)
    elif isinstance(value, str) and len(value.strip()) <= 32:
        number = parse(value.strip())
    else:
        return None
    return number if number is not None and math.isfinite(number) else None


def _percent_text(text: str) -> float | None:
    if text in ("--", "-"):
        return 0.0
    found = _PERCENT.match(text)
    return float(found.group(1)) if found else None


def _size_text(text: str) -> float | None:
    found = _SIZE.match(text)
    if found is None or found.group(2).lower() not in _UNITS:
        return None
    return float(found.group(1)) * _UNITS[found.group(2).lower()]


def percent(value: Any) -> float | None:
    """``"0.58%"`` (or a number) as 0.58; ``"--"`` (Podman's zero) as 0.0; else None."""
    number = _number(value, _percent_text)
    return number if number is not None and 0.0 <= number <= MAX_CPU else None


def size(value: Any) -> int | None:
    """``"393.7MB"``, ``"1.5GiB"``, ``"0B"`` (or a number of bytes) as bytes; else None."""
    number = _number(value, _size_text)
    return int(number) if number is not None and 0 <= number < MAX_BYTES else None


def usage(value: Any) -> tuple[int | None, int | None]:
    """``"393.7MB / 8.051GB"`` as (used, limit); ``-- / --`` (unknown) as (None, None)."""
    if not isinstance(value, str) or len(value) > 80:
        return None, None
    used, _, limit = value.partition("/")
    return size(used), size(limit) or None


@dataclass(frozen=True)
class Sample:
    """One container's figures as a host answered them: CPU seconds used so far (when
    told), CPU % over its life, memory in use and its limit."""

    cpu_seconds: float | None
    lifetime_percent: float
    memory: int
    limit: int | None = None
    source: str = "runtime"


def parse_stats(text: str, asked: Iterable[str]) -> dict[str, Sample]:
    """``podman stats --format json``: ``[{"name": …, "cpu_time": "10m2.7s", "cpu_percent":
    "0.58%", "mem_usage": "393.7MB / 8.051GB", …}]`` (``cpu_time``, the CPU used so far,
    in newer Podman; older ones give the lifetime % only); only containers in ``asked``,
    once each."""
    wanted = set(asked)
    try:
        data = json.loads(text[:MAX_ANSWER]) if text.strip() else []
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, list):
        return {}
    found: dict[str, Sample] = {}
    for item in data:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if not isinstance(name, str) or name not in wanted or name in found:
            continue
        cpu = percent(item.get("cpu_percent"))
        used, limit = usage(item.get("mem_usage"))
        spent = item.get("cpu_time")
        if cpu is not None and used is not None:
            found[name] = Sample(duration(spent) if isinstance(spent, str) else None, cpu,
                                 used, limit)
    return found


def duration(text: str) -> float | None:
    """A Go duration as Podman prints an age (``4.788s``, ``3m5.2s``, ``2h0m1s``)."""
    text = text.strip()
    found = _DURATION.match(text) if len(text) <= 40 else None
    if found is None or not any(found.groups()):
        return None
    hours, minutes, amount, unit = found.groups()
    seconds = 3600.0 * int(hours or 0) + 60.0 * int(minutes or 0)
    if amount is not None:
        seconds += float(amount) * _DURATION_UNIT[unit]
    return seconds if math.isfinite(seconds) else None


def parse_top(text: str) -> Sample | None:
    """``podman top NAME`` :data:`TOP_DESCRIPTORS`: a header, then ``HPID %CPU ELAPSED
    RSS`` per process; None when the answer is not that."""
    lines = text[:MAX_ANSWER].splitlines()
    if not lines or lines[0].split() != ["HPID", "%CPU", "ELAPSED", "RSS"]:
        return None
    cpu_seconds = lifetime = 0.0
    rss = 0
    for line in lines[1:]:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4 or not parts[0].isdigit():
            return None
        share, age, kib = percent(parts[1]), duration(parts[2]), size(parts[3])
        if share is None or age is None or kib is None:
            return None
        cpu_seconds += share / 100.0 * age
        lifetime += share
        rss += kib * 1024
    if not (lifetime <= MAX_CPU and rss < MAX_BYTES):
        return None
    return Sample(cpu_seconds, lifetime, rss, source="top")


@dataclass
class Rates:
    """CPU % over the last round from successive answers (the change of each container's
    CPU seconds: ``podman stats --no-stream`` and ``podman top`` alone only tell the
    average over its life, which is what a container's first answer shows)."""

    seen: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Container to (CPU seconds, when read: ``time.monotonic()``)."""

    def stats(self, answers: Mapping[str, Sample], now: float | None = None,
              ) -> list[ContainerStats]:
        now = time.monotonic() if now is None else now
        results = []
        for name, sample in answers.items():
            cpu = sample.lifetime_percent
            before = self.seen.get(name)
            if sample.cpu_seconds is None:
                self.seen.pop(name, None)
            else:
                if before is not None and now - before[1] > 0.5:
                    change = sample.cpu_seconds - before[0]
                    if change >= 0:  # else a process ended: its share is gone, say lifetime
                        cpu = min(MAX_CPU, 100.0 * change / (now - before[1]))
                self.seen[name] = (sample.cpu_seconds, now)
            results.append(ContainerStats(name, cpu, sample.memory, sample.limit,
                                          source=sample.source))
        for gone in set(self.seen) - set(answers):
            del self.seen[gone]
        return results
