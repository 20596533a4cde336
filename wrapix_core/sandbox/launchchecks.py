"""What every launch checks in the workspace before a sandbox starts: ONE list, run by the
full launch (:func:`wrapix_core.sandbox.launcher.prepare`) and by the fast path
(:mod:`wrapix_core.cli.fastlaunch`) alike, so that no check can be forgotten on either.

The agent of the previous session could write anything in the workspace; a check looks
for what it may have planted to make this launch hand over the host (``.claude`` turned
into a link to a host directory, which would be mounted read-write at ``~/.claude``; a
protected path replaced by a link). A check refuses with a :class:`WrapixError` (exit 2)
that names the file and says what to do.

Adding a check: write ``def my_check(target: Target) -> None`` here (standard library
only, a few system calls at most: every launch pays for it), raise :class:`LaunchRefused`
(or another :class:`WrapixError`), and add it to :data:`CHECKS`. That is all; both paths
pick it up.
"""

from __future__ import annotations

import os
import stat

from wrapix_core.workspace_fs import LINK, LinkRefused, refusal

TYPE_CHECKING = False  # typing costs milliseconds on the fast path; mypy honours this name
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

CLAUDE_DIR = ".claude"


class LaunchRefused(LinkRefused):
    """Something in the workspace makes launching unsafe; nothing was started."""


class Target:
    """What the checks look at: the workspace (its real path) and the workspace paths
    mounted read-only over it. Plain data, so the fast path records it."""

    __slots__ = ("protected", "workspace")

    def __init__(self, workspace: str, protected: Sequence[str]) -> None:
        self.workspace = workspace
        self.protected = tuple(protected)

    def to_record(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "protected": list(self.protected)}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Target:
        return cls(str(data["workspace"]), [str(rel) for rel in data["protected"]])


def _walk(workspace: str, rel: str) -> tuple[str, str]:
    """``(path, kind)`` of the first component of ``rel`` that is not a directory
    ('link', 'file', 'other' or 'missing'), walked without following links; ``(rel,
    'dir')`` when all are directories."""
    fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        done: list[str] = []
        for part in rel.split("/"):
            done.append(part)
            try:
                info = os.lstat(part, dir_fd=fd)
            except FileNotFoundError:
                return "/".join(done), "missing"
            if stat.S_ISLNK(info.st_mode):
                return "/".join(done), "link"
            if not stat.S_ISDIR(info.st_mode):
                return "/".join(done), "file" if stat.S_ISREG(info.st_mode) else "other"
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                            dir_fd=fd)
            os.close(fd)
            fd = child
        return rel, "dir"
    finally:
        os.close(fd)


def claude_is_a_real_directory(target: Target) -> None:
    """``.claude`` is mounted read-write at ``~/.claude`` (and onto itself): a link there
    would mount whatever it points at, a host directory included."""
    path, kind = _walk(target.workspace, CLAUDE_DIR)
    shown = os.path.join(target.workspace, path)
    if kind == "link":
        raise LaunchRefused(*refusal(shown, LINK, "directory"))
    if kind not in ("dir", "missing"):
        raise LaunchRefused(f"{shown} is not a directory, so it cannot be the agent's "
                            "~/.claude", "remove it (wrapix creates the directory)")


def protected_paths_are_not_links(target: Target) -> None:
    """A protected path (``.git/hooks``, ``wrapix.toml``, ``.wrapix``, …), or a directory
    above it, that is a link would be mounted (and read by the host) from elsewhere."""
    for rel in target.protected:
        path, kind = _walk(target.workspace, rel)
        if kind == "link":
            raise LaunchRefused(*refusal(os.path.join(target.workspace, path), LINK,
                                         "directory" if path != rel else "file or directory"))


class GitRedirected(LaunchRefused):
    """Something planted in the workspace would make the host's git run a command."""


def git_is_not_redirected(target: Target) -> None:
    """Refuse where :func:`gitguard.quick` finds something: a sandbox planted it (or an
    earlier one did), and the user must see it before anything else runs there."""
    from wrapix_core.sandbox import gitguard

    findings = gitguard.quick(target.workspace)
    if findings:
        raise GitRedirected(
            f"git in {target.workspace} was redirected from inside a sandbox, so the "
            f"host's git would run what was planted: {gitguard.summary(findings)}",
            f"nothing was started; `wrapix audit {target.workspace}` lists them and "
            f"`wrapix audit --fix {target.workspace}` moves them aside")


CHECKS: tuple[Callable[[Target], None], ...] = (
    claude_is_a_real_directory,
    protected_paths_are_not_links,
    git_is_not_redirected,
)
"""Every launch runs each of these, in order (see the module's docstring to add one)."""


def run(target: Target) -> None:
    """Run every check in :data:`CHECKS`; the first that refuses raises."""
    for check in CHECKS:
        check(target)
