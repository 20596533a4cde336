"""Directory completion and validation for the workspace input."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.suggester import Suggester
from textual.validation import ValidationResult, Validator

from wrapix_tui.format import home_short


def expand(value: str) -> Path:
    return Path(value.strip()).expanduser()


def complete(value: str, limit: int = 2000) -> str | None:
    """The first directory that completes ``value`` (``~/sr`` → ``~/src``), else None."""
    if not value.strip():
        return None
    text = value
    parent_text, _, stem = text.rpartition("/")
    parent = expand(parent_text + "/") if parent_text or text.startswith("/") else Path()
    try:
        names = []
        with os.scandir(parent) as entries:
            for count, entry in enumerate(entries):
                if count >= limit:
                    break
                if entry.name.startswith(stem) and entry.name != stem and \
                        (stem.startswith(".") or not entry.name.startswith(".")) and \
                        entry.is_dir():
                    names.append(entry.name)
    except OSError:
        return None
    if not names:
        return None
    prefix = parent_text + "/" if parent_text or text.startswith("/") else ""
    return prefix + sorted(names)[0]


class DirectorySuggester(Suggester):
    """Suggests directories (→ accepts); the listing runs in a thread."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete, value)


class IsDirectory(Validator):
    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.failure("Enter the workspace directory.")
        path = expand(value)
        shown = home_short(path)
        if not path.exists():
            return self.failure(f"{shown} does not exist.")
        if not path.is_dir():
            return self.failure(f"{shown} is not a directory.")
        return self.success()
