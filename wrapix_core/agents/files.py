"""The configuration each agent finds in the sandbox home, as text.

Every image carries these under ``/etc/wrapix/`` (their bytes are part of the image's
hash); the entrypoint copies the chosen agent's into the temporary home. Each wires the
agent's own "turn finished / waiting for input" mechanism to ``wrapix-notify --agent
NAME`` (:mod:`wrapix_core.agents.notify` turns the agent's payload into a notification).
"""

from __future__ import annotations

import json

WORKSPACE = "/workspace"

CODEX_NOTIFY = ("wrapix-notify", "--agent", "codex")
"""Codex runs this argv with the event's JSON appended as one more argument."""
GEMINI_HOOK = "wrapix-notify --agent gemini"
"""Gemini CLI runs this command line with the event's JSON on standard input."""
OPENCODE_NOTIFY = ("wrapix-notify", "--agent", "opencode")
"""The opencode plugin runs this argv with the event's type appended."""


def codex_config() -> str:
    """``~/.codex/config.toml``: notify on each finished turn; the workspace trusted
    (the container is what makes it safe), no update check."""
    notify = ", ".join(json.dumps(part) for part in CODEX_NOTIFY)
    return (f"notify = [{notify}]\n"
            "check_for_update_on_startup = false\n\n"
            f"[projects.{json.dumps(WORKSPACE)}]\n"
            'trust_level = "trusted"\n')


def gemini_settings() -> str:
    """``~/.gemini/settings.json``: hooks after each agent turn and on its own
    notifications (a permission prompt), no auto-update, no usage statistics."""
    hook = [{"matcher": "*", "hooks": [{"name": "wrapix-notify", "type": "command",
                                        "command": GEMINI_HOOK}]}]
    return json.dumps({
        "hooksConfig": {"enabled": True},
        "hooks": {"AfterAgent": hook, "Notification": hook},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        "privacy": {"usageStatisticsEnabled": False},
    }, indent=2) + "\n"


def opencode_plugin() -> str:
    """``~/.config/opencode/plugins/wrapix-notify.js``: opencode loads every plugin in
    that directory; this one runs wrapix-notify when a session goes idle (its turn is
    over) or asks for a permission."""
    command = json.dumps(list(OPENCODE_NOTIFY))
    return f"""// wrapix: opencode's "turn finished / needs you" events to wrapix-notify.
import {{ spawn }} from "node:child_process";

export const COMMAND = {command};
const EVENTS = new Set(["session.idle", "permission.asked", "permission.v2.asked"]);

export const WrapixNotify = async () => ({{
  event: async ({{ event }}) => {{
    if (!event || !EVENTS.has(event.type)) return;
    await new Promise((resolve) => {{
      const child = spawn(COMMAND[0], [...COMMAND.slice(1), event.type], {{ stdio: "ignore" }});
      child.on("error", resolve);
      child.on("exit", resolve);
    }});
  }},
}});
"""


def opencode_config() -> str:
    """``~/.config/opencode/opencode.json``: every permission allowed (``--auto`` asks
    nothing either), no auto-update."""
    return json.dumps({"$schema": "https://opencode.ai/config.json",
                       "permission": "allow", "autoupdate": False}, indent=2) + "\n"


CONTEXT_FILES = {
    "codex-config.toml": codex_config,
    "gemini-settings.json": gemini_settings,
    "opencode-notify.js": opencode_plugin,
    "opencode.json": opencode_config,
}
"""Build-context file name -> its text (copied to /etc/wrapix/ in every image)."""
