"""How counts and sizes are written, in the CLI and the TUI alike (one rule each)."""

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
