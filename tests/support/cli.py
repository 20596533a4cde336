"""Locating the installed console scripts of the venv under test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def script(name: str) -> str:
    """Absolute path of console script ``name`` next to the running interpreter."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    assert found, f"console script {name} is not installed (pip install -e .)"
    return found
