"""Locate the shipped ``.tcss`` files.

In a wheel they live in ``wrapix_tui/styles/`` (hatch force-includes the top-level
``styles/`` there); in a source checkout they are read from ``styles/`` directly.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).parent / "styles"
_CHECKOUT = Path(__file__).parent.parent / "styles"


def styles_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT


def stylesheet(name: str) -> Path:
    return styles_dir() / name
