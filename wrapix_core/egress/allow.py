"""Allowing a host a sandbox was denied: for this sandbox now, or in the project.

:func:`allow_now` adds the host to the sandbox's own additions (its running proxy
re-reads them at once). :func:`allow_in_project` adds it to ``sandbox.allowlist`` in the
workspace's ``wrapix.toml``; the file then differs from what was trusted, so wrapix
will not obey it (not even for that host) until it is trusted again with
``wrapix trust`` — the same rule as any other change to the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path

from wrapix_core import paths
from wrapix_core.egress import paths as egress_paths
from wrapix_core.egress import policy
from wrapix_core.errors import WrapixError
from wrapix_core.settings import PROJECT_FILE

_TABLE = re.compile(r"^\s*\[\s*sandbox\s*\]\s*(#.*)?$")
_ANY_TABLE = re.compile(r"^\s*\[")
_ALLOWLIST = re.compile(r"^\s*allowlist\s*=")


def _pattern(host: str) -> str:
    try:
        return policy.normalize_pattern(host)
    except policy.PatternError as exc:
        raise WrapixError(str(exc), "give a host name such as example.com") from None


def added_now(name: str) -> list[str]:
    """The hosts allowed for sandbox ``name`` beyond its configured list."""
    try:
        with paths.open_regular(egress_paths.state_dir(name) / egress_paths.ALLOWED) as handle:
            return [line for line in handle.read().decode("utf-8", "replace").splitlines()
                    if line.strip()]
    except OSError:
        return []


def allow_now(name: str, host: str) -> str:
    """Allow ``host`` for sandbox ``name`` from now on; returns the pattern added."""
    pattern = _pattern(host)
    state = paths.ensure_private_dir(egress_paths.state_dir(name))
    current = added_now(name)
    if pattern not in current:
        paths.atomic_write_text(state / egress_paths.ALLOWED,
                                "".join(f"{line}\n" for line in (*current, pattern)), 0o600)
    return pattern


def with_host(text: str, pattern: str) -> str:
    """``wrapix.toml`` text with ``pattern`` added to ``sandbox.allowlist``, everything
    else kept as written; raises when the file is laid out so that it cannot be done
    safely by a program (then it says to edit it by hand)."""
    try:
        current = tomllib.loads(text).get("sandbox", {}).get("allowlist", [])
    except tomllib.TOMLDecodeError as exc:
        raise WrapixError(f"{PROJECT_FILE} is not valid TOML ({exc})", "fix it first") from None
    if not isinstance(current, list):
        raise WrapixError(f"{PROJECT_FILE}: sandbox.allowlist is not a list", "fix it first")
    if pattern in current:
        return text
    wanted = [*current, pattern]
    line = f"allowlist = {json.dumps(wanted)}"
    lines = text.splitlines()
    table = next((i for i, item in enumerate(lines) if _TABLE.match(item)), None)
    if table is None:
        updated = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"[sandbox]\n{line}\n"
    else:
        end = next((i for i in range(table + 1, len(lines)) if _ANY_TABLE.match(lines[i])),
                   len(lines))
        found = [i for i in range(table + 1, end) if _ALLOWLIST.match(lines[i])]
        if found:
            lines[found[0]] = line
        else:
            lines.insert(table + 1, line)
        updated = "\n".join(lines) + "\n"
    try:
        result = tomllib.loads(updated).get("sandbox", {}).get("allowlist")
    except tomllib.TOMLDecodeError:
        result = None
    if result != wanted:
        raise WrapixError(f"cannot add {pattern} to {PROJECT_FILE} without rewriting it",
                          f"add it to [sandbox] allowlist in {PROJECT_FILE} by hand")
    return updated


def allow_in_project(workspace: Path, host: str) -> Path:
    """Add ``host`` to the project's allowlist; returns the file, now untrusted."""
    pattern = _pattern(host)
    path = workspace / PROJECT_FILE
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        text = ""
    else:
        if not stat.S_ISREG(info.st_mode):
            raise WrapixError(f"{path} is not a regular file (a link?)",
                              "replace it with a plain file (an agent may have planted it)")
        with paths.open_regular(path) as handle:
            text = handle.read().decode("utf-8")
    paths.atomic_write_text(path, with_host(text, pattern), mode=0o644)
    return path
