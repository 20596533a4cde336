"""Trust for project configuration files (like direnv's ``allow``).

A project's ``wrapix.toml`` lives in the workspace, which an agent in a sandbox can write.
Obeying a file the agent planted would hand it the host: ``sandbox.podman`` names a
program the host runs, profile mounts choose host directories to expose. So a project
file is obeyed only when its exact content was trusted by the user with ``wrapix trust``;
a new or changed file is refused with an error that says how to review and trust it. The
record lives in the user's data directory, which no sandbox mounts.

``WRAPIX_TRUST_PROJECTS=all`` (an environment variable, so never settable from a project
file) turns the check off for people who accept the risk, and for the test suite.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from wrapix_core import paths
from wrapix_core.errors import ConfigError

ENV = "WRAPIX_TRUST_PROJECTS"


def store_file() -> Path:
    return paths.data_dir() / "trusted-projects.json"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _records() -> dict[str, str]:
    try:
        data = json.loads(store_file().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save(records: dict[str, str]) -> None:
    paths.atomic_write_text(store_file(), json.dumps(records, indent=2, sort_keys=True) + "\n",
                            mode=0o600)


def is_trusted(path: Path, data: bytes) -> bool:
    """Whether ``path`` with exactly this content was trusted (or checks are off)."""
    if os.environ.get(ENV) == "all":
        return True
    return _records().get(str(path.resolve())) == _digest(data)


def trust(path: Path, data: bytes) -> None:
    """Record ``path``'s current content as trusted."""
    records = _records()
    records[str(path.resolve())] = _digest(data)
    _save(records)


def revoke(path: Path) -> bool:
    """Forget ``path``; True when it was trusted."""
    records = _records()
    found = records.pop(str(path.resolve()), None) is not None
    if found:
        _save(records)
    return found


def require(path: Path, data: bytes) -> None:
    """Raise :class:`ConfigError` unless ``path`` with this content is trusted."""
    if is_trusted(path, data):
        return
    state = "changed since you trusted it" if str(path.resolve()) in _records() else "new"
    raise ConfigError(
        f"{path} is not trusted ({state}); an agent in a sandbox can write this file, so "
        "wrapix does not obey it unreviewed",
        f"review it, then run `wrapix trust {path.parent}`")
