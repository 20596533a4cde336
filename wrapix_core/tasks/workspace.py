"""Where a workspace's issues live: finding ``.beads/``, reading its config, creating it.

``wrapix tasks`` finds its workspace the way git finds a repository: the nearest directory
at or above the current one that holds ``.beads/``. The prefix of new ids comes from
``.beads/config.yaml`` (``issue-prefix``, as bd writes it), else the prefix the existing
issues use, else the directory name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from wrapix_core import workspace_fs
from wrapix_core.errors import ConfigError

BEADS_DIR = ".beads"
ISSUES_FILE = "issues.jsonl"
CONFIG_FILE = "config.yaml"
LOCK_FILE = "issues.jsonl.lock"
GITIGNORE = "# lock files and interrupted writes of wrapix's issue store\n*.lock\n.*.tmp\n"
_IGNORED_TEMPS = ".*.tmp"

_BD_MARKERS = ("metadata.json", "dolt", "beads.db")
_MAX_CONFIG_BYTES = 1 << 20


def beads_dir(workspace: Path) -> Path:
    return workspace / BEADS_DIR


def issues_path(workspace: Path) -> Path:
    return workspace / BEADS_DIR / ISSUES_FILE


def find_workspace(start: Path, markers: Sequence[str] = (BEADS_DIR,)) -> Path | None:
    """The nearest directory at or above ``start`` that holds one of ``markers``."""
    here = start.resolve()
    for candidate in (here, *here.parents):
        if any((candidate / marker).exists() for marker in markers):
            return candidate
    return None


def is_bd_workspace(workspace: Path) -> bool:
    """True when ``.beads/`` holds bd's own database or metadata (not only our JSONL)."""
    directory = beads_dir(workspace)
    if not workspace_fs.is_real_dir(workspace, BEADS_DIR):  # a link: refused, bd not run
        return False
    if any((directory / marker).exists() for marker in _BD_MARKERS):
        return True
    return any(directory.glob("*.db"))


def read_config(workspace: Path) -> dict[str, Any]:
    """``.beads/config.yaml`` as a mapping ({} when absent); invalid YAML names the file."""
    path = beads_dir(workspace) / CONFIG_FILE
    try:
        text = workspace_fs.read_bytes(workspace, f"{BEADS_DIR}/{CONFIG_FILE}",
                                       _MAX_CONFIG_BYTES).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})".replace("\n", " "),
                          "fix the file or remove it") from None
    return data if isinstance(data, dict) else {}


def default_prefix(workspace: Path) -> str:
    """An id prefix from the directory name: lowercase letters, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", workspace.resolve().name.lower()).strip("-")
    return name or "wx"


def prefix_of(issue_id: str) -> str:
    """``wx`` for ``wx-a1b2`` and for ``wx-a1b2.3``; "" when the id has no prefix."""
    head = issue_id.split(".", 1)[0]
    return head.rsplit("-", 1)[0] if "-" in head else ""


def issue_prefix(workspace: Path, existing_ids: Iterable[str] = ()) -> str:
    """The prefix of new ids: ``issue-prefix`` from the config, else the one most existing
    ids use (as ``bd init`` infers it from an imported file), else the directory name."""
    value = read_config(workspace).get("issue-prefix")
    if isinstance(value, str) and value.strip().strip("-"):
        return value.strip().rstrip("-")
    counts = Counter(prefix for prefix in map(prefix_of, existing_ids) if prefix)
    if counts:
        return counts.most_common(1)[0][0]
    return default_prefix(workspace)


def init_workspace(workspace: Path, prefix: str | None = None) -> Path:
    """Create ``.beads/`` with ``config.yaml`` and an empty ``issues.jsonl`` if missing.

    Never overwrites: an existing config or issues file is left exactly as it is (a new
    ``.beads/`` also gets a ``.gitignore`` for lock and temporary files). Nothing is
    followed through a link (see :mod:`wrapix_core.workspace_fs`). Returns the ``.beads``
    directory. Called by ``wrapix tasks`` before its first write and by Ralph.
    """
    directory = beads_dir(workspace)
    created = workspace_fs.kind(workspace, BEADS_DIR) == "missing"
    workspace_fs.makedirs(workspace, BEADS_DIR)
    if workspace_fs.kind(workspace, f"{BEADS_DIR}/{CONFIG_FILE}") == "missing":
        chosen = (prefix or default_prefix(workspace)).strip().rstrip("-")
        workspace_fs.write_atomic(
            workspace, f"{BEADS_DIR}/{CONFIG_FILE}",
            ("# Beads configuration (bd reads the same keys).\n"
             + yaml.safe_dump({"issue-prefix": chosen}, default_flow_style=False)).encode())
    with workspace_fs.open_append(workspace, f"{BEADS_DIR}/{ISSUES_FILE}"):
        pass
    if created:
        workspace_fs.write_atomic(workspace, f"{BEADS_DIR}/.gitignore", GITIGNORE.encode())
    return directory


def ignore_temporary_files(workspace: Path) -> None:
    """Make sure git ignores ``.beads/.*.tmp`` (what an interrupted write leaves): add the
    line to ``.beads/.gitignore`` (creating it when missing). Only a regular file is ever
    written; a link there is refused."""
    name = f"{BEADS_DIR}/.gitignore"
    try:
        text = workspace_fs.read_bytes(workspace, name, _MAX_CONFIG_BYTES).decode(
            "utf-8", errors="replace")
    except FileNotFoundError:
        workspace_fs.write_atomic(workspace, name, GITIGNORE.encode())
        return
    if _IGNORED_TEMPS in text.split("\n"):
        return
    with workspace_fs.open_append(workspace, name) as handle:
        handle.write(f"{'' if text.endswith(chr(10)) or not text else chr(10)}"
                     f"{_IGNORED_TEMPS}\n".encode())
