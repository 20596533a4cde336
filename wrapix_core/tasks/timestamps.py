"""Timestamps in the form bd writes them, and a tolerant reader for every form seen in the wild.

bd stores RFC 3339 UTC times with nanoseconds (``2026-04-09T20:24:48.507423683Z``); older
files and other tools wrote whole seconds or microseconds. Ordering and ``defer_until``
need them as numbers; a value that is not a time is reported, never fatal.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def format_ns(epoch_ns: int) -> str:
    """``epoch_ns`` (nanoseconds since the epoch) as bd writes it: UTC, 9 fraction digits, Z."""
    seconds, fraction = divmod(epoch_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def now() -> str:
    """The current time in bd's form."""
    return format_ns(time.time_ns())


def parse(value: object) -> float | None:
    """Seconds since the epoch for an RFC 3339 / ISO 8601 value, or None when it is not one.

    Naive times are taken as UTC (bd writes UTC). Precision beyond microseconds is
    dropped, which is finer than any ordering here needs.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
