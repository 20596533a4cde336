"""``podman run --cidfile``: which container a failed run created, so that exactly that
one is removed.

A failed ``podman run -d`` can leave the container it created behind. Removing it by
name could remove another container that holds the name; the id podman wrote to the
cidfile names only the one this run made. The launcher and the launch fast path both
follow this rule (standard library only: the fast path imports it).
"""

from __future__ import annotations

from collections.abc import Sequence


def run_argv(argv: Sequence[str], cidfile: str) -> list[str]:
    """``podman run …`` (``argv``: the executable, ``run``, the rest) writing the new
    container's id to ``cidfile``."""
    return [*argv[:2], "--cidfile", cidfile, *argv[2:]]


def created(cidfile: str) -> str:
    """The id of the container the run created, ``""`` when it created none."""
    try:
        with open(cidfile) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def removal(container: str) -> list[str]:
    """The podman arguments that remove the container a failed run created (by id)."""
    return ["rm", "-f", container]
