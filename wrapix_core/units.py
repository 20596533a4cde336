"""How counts, sizes and ages are written, in the CLI and the TUI alike (one rule each)."""

from __future__ import annotations


def size(num_bytes: int) -> str:
    """Bytes in the shortest readable binary unit, as ``ls -h``: ``512B``, ``16.0K``,
    ``3.4M``, ``300M``, ``1.2G``."""
    value = float(num_bytes)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}T"  # pragma: no cover - the loop always returns


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 issue``, ``0 issues``, ``2 sandboxes`` (``nouns``: an irregular plural)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def age(seconds: float | None) -> str:
    """How long something has run: ``42s``, ``3m05s``, ``2h07m``, ``4d03h``; ``-`` for
    unknown (``wrapix ls`` and the TUI's sandbox table alike)."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
