"""Container names and labels: how wrapix finds its own sandboxes among all containers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

LABEL_SANDBOX = "wrapix.sandbox"
LABEL_PROFILE = "wrapix.profile"
LABEL_WORKSPACE = "wrapix.workspace"
LABEL_LIMITS = "wrapix.limits"
LABEL_ROLE = "wrapix.role"
LABEL_NETWORK = "wrapix.network"
LABEL_SESSION = "wrapix.session"
"""The session a sandbox runs on (its name); its project's checkout is LABEL_PROJECT."""
LABEL_PROJECT = "wrapix.project"
"""``agent`` (interactive), ``ralph`` (a Ralph step) or ``builder``."""

_UNSAFE = re.compile(r"[^a-z0-9_.-]+")
MAX_NAME = 63


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def container_name(workspace: Path, suffix: str = "") -> str:
    """``wrapix-<dir>-<hash of the path>[-suffix]``, lowercase, safe for Podman and DNS."""
    stem = _UNSAFE.sub("-", workspace.name.lower()).strip("-.") or "root"
    tail = f"-{short_hash(str(workspace))}" + (f"-{_UNSAFE.sub('-', suffix.lower())}"
                                                if suffix else "")
    return f"wrapix-{stem[: MAX_NAME - len('wrapix-') - len(tail)]}{tail}"
