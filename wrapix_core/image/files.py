"""The files wrapix puts into every image, as text (their bytes feed the image hash)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
ENTRYPOINT = DATA / "entrypoint.sh"
INSTALL_AGENT = DATA / "install-agent.py"
SYSTEM_PROMPT = Path(__file__).parent.parent / "sandbox" / "data" / "system-prompt.md"

WORKSPACE = "/workspace"
"""Where every sandbox mounts its workspace (the image trusts it for Claude Code)."""

NOTIFY_HOOK = "wrapix-notify 'Claude Code' 'Waiting for input...'"


def claude_config() -> str:
    """``~/.claude.json`` seed: onboarding done, the permission-bypass warning accepted,
    and the workspace trusted: ``--dangerously-skip-permissions`` does not skip Claude
    Code's "do you trust the files in this folder?" dialog, which would otherwise greet
    every interactive sandbox (the container is what makes the folder safe to trust)."""
    return json.dumps({
        "hasCompletedOnboarding": True,
        "bypassPermissionsModeAccepted": True,
        "autoUpdates": False,
        "projects": {WORKSPACE: {"hasTrustDialogAccepted": True,
                                 "hasCompletedProjectOnboarding": True}},
    }, indent=2) + "\n"


def claude_settings() -> str:
    """Managed settings: no auto-update, telemetry or error reporting; notify on waiting."""
    return json.dumps({
        "env": {
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_BUG_COMMAND": "1",
        },
        "hooks": {
            "Notification": [
                {"matcher": "", "hooks": [{"type": "command", "command": NOTIFY_HOOK}]},
            ],
        },
    }, indent=2) + "\n"


def nix_conf() -> str:
    """Single-user Nix without its own sandbox (the container is the sandbox)."""
    return ("experimental-features = nix-command flakes\n"
            "sandbox = false\n"
            "build-users-group =\n")
