"""A diff as plain, inert text lines for a terminal (``wrapix diff [--stat]``).

Paths and content come from the repository (an agent wrote them): every line passes
through :func:`~wrapix_core.notify.sanitize.display_text`, so an escape sequence or a
control character in a file name or a line is shown, never obeyed.
"""

from __future__ import annotations

from collections.abc import Iterator

from wrapix_core.gitdiff.model import Diff, FileDiff, Part
from wrapix_core.gitdiff.source import PART_TITLES
from wrapix_core.notify.sanitize import display_text

LINE_LIMIT = 4000
PARTS: tuple[Part, ...] = ("committed", "uncommitted", "untracked")
STATUS_MARK = {"added": "A", "deleted": "D", "modified": "M", "renamed": "R", "copied": "C",
               "mode": "m"}


def name(item: FileDiff) -> str:
    """``path``, or ``old → new`` for a rename or copy; escaped."""
    shown = display_text(item.path, 400)
    if item.old_path and item.old_path != item.path:
        return f"{display_text(item.old_path, 400)} → {shown}"
    return shown


def counts(item: FileDiff) -> str:
    return "binary" if item.binary else f"+{item.added} -{item.removed}"


def stat_lines(diff: Diff) -> Iterator[str]:
    """Per part: a title, then one line per file (status, +/−, name), then a total."""
    for part in PARTS:
        files = diff.part(part)
        if not files:
            continue
        yield f"{PART_TITLES[part]}:"
        width = max(len(counts(item)) for item in files)
        for item in files:
            yield f"  {STATUS_MARK[item.status]} {counts(item):>{width}}  {name(item)}"
        added = sum(item.added for item in files)
        removed = sum(item.removed for item in files)
        yield f"  {len(files)} file{'s' if len(files) != 1 else ''}, +{added} -{removed}"
    if not diff.files:
        yield "no changes"


def patch_lines(diff: Diff) -> Iterator[str]:
    """Per part: a title, then each file's diff lines as git printed them, escaped."""
    for part in PARTS:
        files = diff.part(part)
        if not files:
            continue
        yield f"==== {PART_TITLES[part]} ===="
        for item in files:
            for line in item.lines[item.start:item.end]:
                yield display_text(line.expandtabs(), LINE_LIMIT)
    if not diff.files:
        yield "no changes"
