"""The denial log of one sandbox, and the notifications it causes.

``<state dir>/egress/NAME/denied.jsonl``: one JSON object per refused connection,
appended by the sandbox's proxy (the only writer) and bounded: past
:data:`MAX_BYTES` the oldest half is dropped. Never in the workspace, which the sandbox
could rewrite.

:class:`Announcer` decides which denials become a notification: the first for each host
of a sandbox, at most one per :data:`MIN_INTERVAL` seconds, and at most
:data:`MAX_HOSTS` hosts per proxy run — never a flood, however the agent retries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wrapix_core import paths
from wrapix_core.egress import paths as egress_paths

MAX_BYTES = 256 * 1024
MIN_INTERVAL = 5.0
MAX_HOSTS = 20


def log_file(name: str) -> Path:
    return egress_paths.state_dir(name) / egress_paths.DENIED


def append(path: Path, record: dict[str, object], max_bytes: int = MAX_BYTES) -> None:
    """Add one record; past ``max_bytes`` keep the newer half (whole lines)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        os.write(fd, line.encode())
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size > max_bytes:
        data = path.read_bytes()
        cut = data.find(b"\n", len(data) - max_bytes // 2)
        paths.atomic_write_bytes(path, data[cut + 1:] if cut >= 0 else b"", 0o600)


def read(name: str) -> list[dict[str, Any]]:
    """The recorded denials, oldest first; lines that are not records are skipped."""
    try:
        with paths.open_regular(log_file(name)) as handle:
            data = handle.read()
    except OSError:
        return []
    records: list[dict[str, Any]] = []
    for line in data.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("host"), str):
            records.append(item)
    return records


def count(name: str) -> int:
    """How many denials are recorded (cheap: counts lines)."""
    try:
        with paths.open_regular(log_file(name)) as handle:
            return handle.read().count(b"\n")
    except OSError:
        return 0


class Announcer:
    """Which denials to notify about (see the module docstring)."""

    def __init__(self, clock: Callable[[], float], *, interval: float = MIN_INTERVAL,
                 max_hosts: int = MAX_HOSTS):
        self.clock, self.interval, self.max_hosts = clock, interval, max_hosts
        self.announced: set[str] = set()
        self.last: float | None = None

    def should_announce(self, host: str) -> bool:
        if host in self.announced or len(self.announced) >= self.max_hosts:
            return False
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            return False  # not marked: a later denial of this host may still be told
        self.announced.add(host)
        self.last = now
        return True
