"""The builder's persistent Nix store: ``$XDG_DATA_HOME/wrapix/builder-nix``, mounted at /nix.

It outlives the container, so what the builder built survives a restart. It is
initialised from the image's own ``/nix`` on first start, and again when the image
changed (the image id is recorded in ``.image-version``, written last, so an
interrupted copy is redone on the next start). Copying and emptying run in a one-shot
container as container root: files the builder's users created belong to sub-ids the
host user cannot delete directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections import deque
from pathlib import Path

from wrapix_core import paths, proc, units
from wrapix_core.builder.commands import Commands
from wrapix_core.builder.errors import StoreInitFailed, StoreNotWritable
from wrapix_core.builder.events import BuilderCallback, BuilderEvent
from wrapix_core.builder.events import ignore as ignore_events
from wrapix_core.builder.podman import helper_name
from wrapix_core.builder.status import directory_size

VERSION_FILE = ".image-version"
COPY_TIMEOUT = 3600.0
WIPE_TIMEOUT = 600.0
TAIL_LINES = 8
_TOTAL = re.compile(r"^wrapix-builder: total (\d+) (\d+)$")
_COPIED = re.compile(r"^wrapix-builder: copied (\d+)$")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(store: Path) -> None:
    """Raise :class:`StoreNotWritable` unless ``store`` exists as a writable directory
    or can be created (checked before anything is created)."""
    hint = (f"fix the permissions of {store} (or its parent), or point WRAPIX_DATA_DIR "
            "somewhere writable")
    if store.exists():
        if not store.is_dir():
            raise StoreNotWritable(f"builder store {store} is not a directory",
                                   "move it away and start again")
        target = store
    else:
        target = _nearest_existing(store.parent)
        if not target.is_dir():
            raise StoreNotWritable(f"builder store {store} cannot be created: {target} is "
                                   "not a directory", hint)
    if not os.access(target, os.W_OK | os.X_OK):
        raise StoreNotWritable(f"builder store {store} is not writable"
                               + ("" if target == store else f" ({target} is read-only to you)"),
                               hint)
    try:  # access() can be wrong (read-only mounts, ACLs): really write
        with tempfile.NamedTemporaryFile(dir=target, prefix=".wrapix-probe-"):
            pass
    except OSError as exc:
        raise StoreNotWritable(f"builder store {store} is not writable ({exc.strerror})",
                               hint) from None


def prepare_dir(store: Path) -> bool:
    """Create the store directory (0755: it is /nix inside); True when created now."""
    if store.is_dir():
        return False
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        store.mkdir(mode=0o755)
        store.chmod(0o755)
    except OSError as exc:
        raise StoreNotWritable(f"builder store {store} cannot be created ({exc.strerror})",
                               "fix the permissions of its parent, or set WRAPIX_DATA_DIR"
                               ) from None
    return True


def recorded_version(store: Path) -> str | None:
    try:
        return (store / VERSION_FILE).read_text().strip() or None
    except OSError:
        return None


def is_current(store: Path, image_id: str) -> bool:
    return recorded_version(store) == image_id and (store / "store").is_dir()


async def initialise(commands: Commands, image: str, image_id: str, store: Path, *,
                     on_event: BuilderCallback = ignore_events) -> bool:
    """Make ``store`` hold the image's /nix unless it already does; True when copied.

    On failure the partial copy is emptied again and :class:`StoreInitFailed` says why.
    """
    if is_current(store, image_id):
        size = await asyncio.to_thread(directory_size, store)
        on_event(BuilderEvent("store", f"store kept: {units.size(size)} in {store}"))
        return False
    previous = recorded_version(store)
    reason = ("the builder image changed; paths built before are dropped" if previous
              else "first start")
    on_event(BuilderEvent("store", f"initialising the Nix store in {store} from the image "
                                   f"({reason})"))
    (store / VERSION_FILE).unlink(missing_ok=True)
    await commands.remove_quietly(helper_name(commands.settings))
    argv = commands.helper_argv(image, store, "init-store")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    total: int | None = None
    try:
        async with asyncio.timeout(COPY_TIMEOUT):
            async with proc.open_lines(argv, stderr_to_stdout=True) as lines:
                async for line in lines:
                    tail.append(line)
                    text = line.strip()
                    if match := _TOTAL.match(text):
                        total = int(match.group(1))
                        if total == 0:
                            on_event(BuilderEvent("store", "the image has no /nix (its Nix "
                                                           "comes from the distribution): "
                                                           "starting with an empty store"))
                            continue
                        on_event(BuilderEvent("store", f"copying {total} entries "
                                                       f"({units.size(int(match.group(2)))})",
                                              done=0, total=total))
                    elif (match := _COPIED.match(text)) and total:
                        done = int(match.group(1))
                        on_event(BuilderEvent("store", f"copied {done} of {total or done}",
                                              done=done, total=total or done))
    except proc.CommandNotFound:
        raise commands.missing() from None
    except (proc.CommandFailed, TimeoutError) as exc:
        why = (f"did not finish within {COPY_TIMEOUT:g}s" if isinstance(exc, TimeoutError)
               else "failed")
        await wipe(commands, image, store)
        last = "\n  ".join(tail) or "(no output)"
        raise StoreInitFailed(f"initialising the builder store {store} {why}",
                              "fix the cause and start again (the partial copy was "
                              f"removed); the copy's last lines:\n  {last}") from None
    except BaseException:
        await commands.remove_quietly(helper_name(commands.settings))
        raise
    paths.atomic_write_text(store / VERSION_FILE, image_id + "\n")
    size = await asyncio.to_thread(directory_size, store)
    on_event(BuilderEvent("store", f"store ready: {units.size(size)} in {store}"))
    return True


async def wipe(commands: Commands, image: str, store: Path) -> None:
    """Empty ``store`` (best effort: used while cleaning up after a failure)."""
    (store / VERSION_FILE).unlink(missing_ok=True)
    with contextlib.suppress(proc.ProcError, TimeoutError):
        await commands.remove_quietly(helper_name(commands.settings))
        await proc.run(commands.helper_argv(image, store, "wipe-store"), timeout=WIPE_TIMEOUT,
                       check=False)


async def remove(commands: Commands, image: str, store: Path) -> None:
    """Empty ``store`` and remove the directory itself (it was created by this start)."""
    await wipe(commands, image, store)
    with contextlib.suppress(OSError):
        await asyncio.to_thread(store.rmdir)
