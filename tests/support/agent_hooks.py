#!/usr/bin/env python3
"""Inside a sandbox: run the notification hook the chosen agent's own configuration
declares (seeded into $HOME by the entrypoint), the way the agent itself runs it, with a
payload in the agent's documented shape. Standard library only (it runs in the image).

usage: agent_hooks.py AGENT
"""

import json
import os
import shlex
import subprocess
import sys
import tomllib

HOME = os.environ["HOME"]


def claude() -> None:
    # Claude Code runs each Notification hook command through a shell, the event's JSON
    # on standard input.
    with open("/etc/claude-code/managed-settings.json") as handle:
        settings = json.load(handle)
    command = settings["hooks"]["Notification"][0]["hooks"][0]["command"]
    subprocess.run(["sh", "-c", command], input='{"hook_event_name": "Notification"}',
                   text=True, check=True, timeout=30)


def codex() -> None:
    # Codex appends the event's JSON to its `notify` argv as one more argument.
    with open(f"{HOME}/.codex/config.toml", "rb") as handle:
        config = tomllib.load(handle)
    payload = {"type": "agent-turn-complete", "thread-id": "t1", "turn-id": "1",
               "cwd": "/workspace", "input-messages": ["hi"],
               "last-assistant-message": "[bold]done[/bold]"}
    subprocess.run([*config["notify"], json.dumps(payload)], check=True, timeout=30)


def gemini() -> None:
    # Gemini CLI runs each hook's command line through a shell, the event's JSON on
    # standard input, and reads a JSON answer from standard output.
    with open(f"{HOME}/.gemini/settings.json") as handle:
        settings = json.load(handle)
    command = settings["hooks"]["AfterAgent"][0]["hooks"][0]["command"]
    payload = {"session_id": "s1", "transcript_path": "/tmp/t.json", "cwd": "/workspace",
               "hook_event_name": "AfterAgent", "timestamp": "2026-12-05T01:00:00Z",
               "prompt": "hi", "prompt_response": "done"}
    done = subprocess.run(["sh", "-c", command], input=json.dumps(payload), text=True,
                          capture_output=True, check=True, timeout=30)
    json.loads(done.stdout)  # what Gemini CLI parses: must be JSON
    print("gemini hook stdout:", done.stdout.strip())


def opencode() -> None:
    # opencode loads the plugin module and calls its `event` hook for every bus event.
    plugin = f"{HOME}/.config/opencode/plugins/wrapix-notify.js"
    script = (f"import({json.dumps(plugin)}).then(async (m) => {{"
              " const hooks = await m.WrapixNotify({});"
              " await hooks.event({event: {type: 'message.updated'}});"
              " await hooks.event({event: {type: 'session.idle',"
              " properties: {sessionID: 'ses_1'}}}); });")
    subprocess.run(["node", "--input-type=module", "-e", script], check=True, timeout=60)


if __name__ == "__main__":
    {"claude": claude, "codex": codex, "gemini": gemini, "opencode": opencode}[sys.argv[1]]()
    print(f"{sys.argv[1]} hook ran: {shlex.quote(sys.argv[1])}")
