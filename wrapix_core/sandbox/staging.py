"""Staging: copying mount sources whose symlinks would dangle inside the container.

A directory full of symlinks into elsewhere (a Nix home-manager config, say) would show
broken links when bind-mounted, so it is copied with links dereferenced into the cache.
Directories that need no staging are mounted directly, so launch time does not grow with
their size — the check below reads directory entries, never file contents.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.notify import socketdirs
from wrapix_core.sandbox.model import StagingAction


def has_escaping_symlinks(root: Path) -> bool:
    """True when any symlink under ``root`` points outside it (or dangles)."""
    real_root = root.resolve()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if not target.exists() or (target != real_root
                                           and real_root not in target.parents):
                    return True
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return False


def perform(actions: list[StagingAction]) -> None:
    """Carry out a plan's staging actions in order."""
    for action in actions:
        try:
            if action.kind == "clear":
                shutil.rmtree(action.target, ignore_errors=True)
            elif action.kind == "mkdir" and action.anchor is not None:
                workspace_fs.makedirs(action.anchor, action.target)
            elif action.kind == "mkdir":
                action.target.mkdir(parents=True, exist_ok=True)
            elif action.kind == "socketdir":
                socketdirs.create(str(action.target))
            elif action.kind == "copy":
                assert action.source is not None
                action.target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if action.source.is_dir():
                    shutil.copytree(action.source, action.target, symlinks=False,
                                    ignore_dangling_symlinks=True)
                else:
                    shutil.copy2(action.source, action.target)
        except OSError as exc:
            raise WrapixError(f"could not stage {action.source or action.target} for the "
                              f"sandbox: {exc.strerror or exc}",
                              "check permissions and free space") from None


def undo(actions: list[StagingAction]) -> None:
    """Remove the staged copies a plan made (its ``clear`` roots) and its notification
    socket directory, when the sandbox ends."""
    for action in actions:
        if action.kind == "clear":
            shutil.rmtree(action.target, ignore_errors=True)
        elif action.kind == "socketdir":
            socketdirs.remove(str(action.target))


def clear(cache_dir: Path, name: str) -> None:
    """Remove a sandbox's staged copies and its notification socket directory by name
    (when it is removed)."""
    shutil.rmtree(cache_dir / "staging" / name, ignore_errors=True)
    from wrapix_core import paths

    try:
        socket_dir = paths.sandbox_socket_dir(name)
    except ValueError:  # not a container name: it never had one
        return
    socketdirs.remove(str(socket_dir))
