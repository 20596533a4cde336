#!/usr/bin/env python3
"""A scripted stand-in for Claude Code, driven by a scenario file (the only fake in the
Ralph tests). Standard library only: it runs on the host and inside sandbox images.

Installed on PATH as ``claude`` (or named by ``RALPH_AGENT``). It takes Claude's flags:
``-p PROMPT --output-format stream-json --verbose`` for a non-interactive session, or
the prompt as the last argument for an interactive one. Installed as ``codex``,
``gemini`` or ``opencode`` it takes that agent's non-interactive command instead (``exec
--json PROMPT``; ``-p PROMPT --output-format stream-json``; ``run --format json PROMPT``)
and speaks its output format (:mod:`wrapix_core.agents.ralph` documents them); the
``replay`` action prints a recorded output (``tests/ralph/fixtures/agents``) with its
final message replaced.

The scenario is JSON: ``$FAKE_AGENT_SCENARIO``, else ``.fake-agent/scenario.json`` in the
working directory (the workspace, on the host and in a sandbox)::

    {"responses": [
        {"phase": "step", "when": "text in the prompt", "times": 1,
         "actions": [
            {"say": "assistant text"},              # an assistant record
            {"print": {...}},                        # any stream-json record
            {"text": "a plain line"},                # plain output
            {"write": {"path": "f.txt", "content": "..."}},
            {"run": ["wrapix", "tasks", "create", "...", "--json"], "save": "epic"},
            {"ask": "question?", "save": "answer"}, # interactive: read a line
            {"wait_file": "path", "timeout": 30},
            {"result": "final text", "is_error": false, "subtype": "success"},
            {"replay": "fixture.jsonl", "final": "text for __FINAL__"},
            {"hang": 60, "ignore_term": true},       # keep running (after the result)
            {"background": ["sleep", "1000"], "pid_file": "bg.pid"},
                                                     # a child left running, holding stdout
            {"exit": 3}
         ]}
     ]}

The first response whose ``phase`` and ``when`` match and that has uses left (``times``,
default 1; 0 means unlimited) is played. Strings may use ``{ISSUE_ID}``, ``{TITLE}``,
``{PHASE}``, ``{N}`` (the call number) and names saved by ``save``. Every call is recorded
in ``calls.jsonl`` next to the scenario (argv, prompt, phase, pid, time); each result's
time goes to ``result-<N>.time``.
"""

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time

PHASE_RE = re.compile(r"^# Ralph (plan|ready|step|check)\b", re.MULTILINE)
STEP_RE = re.compile(r"^# Ralph step: (\S+) — (.*)$", re.MULTILINE)
VAR_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


FORMAT = os.path.basename(sys.argv[0]) if os.path.basename(sys.argv[0]) in (
    "codex", "gemini", "opencode") else "claude"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "agents")


def parse_args(argv):
    if FORMAT in ("codex", "opencode"):
        words = [arg for arg in argv if not arg.startswith("-")]
        if "--format" in argv:  # opencode's one option with a value
            words.remove(argv[argv.index("--format") + 1])
        if "--prompt" in argv:
            return argv[argv.index("--prompt") + 1], True
        batch = bool(words) and words[0] == ("exec" if FORMAT == "codex" else "run")
        return (words[-1] if words[1 if batch else 0:] else ""), not batch
    if FORMAT == "gemini" and "--prompt-interactive" in argv:
        return argv[argv.index("--prompt-interactive") + 1], True
    prompt, interactive = None, True
    rest = list(argv)
    index = 0
    positional = []
    while index < len(rest):
        arg = rest[index]
        if arg in ("-p", "--print"):
            interactive = False
            if index + 1 < len(rest):
                prompt = rest[index + 1]
                index += 1
        elif arg == "--output-format":
            index += 1
        elif arg.startswith("-"):
            pass
        else:
            positional.append(arg)
        index += 1
    if prompt is None and positional:
        prompt = positional[-1]
    return prompt or "", interactive


class Locked:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def substitute(value, variables):
    if isinstance(value, str):
        return VAR_RE.sub(lambda m: str(variables.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def say(text):
    """An assistant message in this agent's format."""
    if FORMAT == "codex":
        emit({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message",
                                                 "text": text}})
    elif FORMAT == "gemini":
        emit({"type": "message", "timestamp": "2026-12-05T00:00:00Z", "role": "assistant",
              "content": text, "delta": True})
    elif FORMAT == "opencode":
        emit({"type": "text", "timestamp": 0, "sessionID": "ses_fake",
              "part": {"type": "text", "text": text}})
    else:
        emit({"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "text", "text": text}]}})


def result(action, number):
    """The final result in this agent's format."""
    text = action["result"]
    if FORMAT == "codex":
        say(text)
        emit({"type": "turn.failed", "error": {"message": text}} if action.get("is_error")
             else {"type": "turn.completed", "usage": {"input_tokens": 1,
                                                       "cached_input_tokens": 0,
                                                       "output_tokens": 1}})
    elif FORMAT == "gemini":
        say(text)
        emit({"type": "result", "timestamp": "2026-12-05T00:00:01Z",
              "status": "error" if action.get("is_error") else "success",
              "stats": {"total_tokens": 2, "duration_ms": 1, "tool_calls": 0}})
    elif FORMAT == "opencode":
        emit({"type": "step_start", "timestamp": 0, "sessionID": "ses_fake",
              "part": {"type": "step-start"}})
        say(text)
        emit({"type": "step_finish", "timestamp": 1, "sessionID": "ses_fake",
              "part": {"type": "step-finish", "reason": "stop", "cost": 0}})
    else:
        emit({"type": "result", "subtype": action.get("subtype", "success"),
              "is_error": bool(action.get("is_error", False)), "duration_ms": 1,
              "num_turns": 1, "result": text,
              "session_id": f"fake-{number}", "total_cost_usd": 0})


def replay(action):
    """A recorded output, its ``__FINAL__`` replaced by the action's final text."""
    final = json.dumps(action.get("final", ""))[1:-1]
    path = action["replay"]
    if not os.path.isabs(path):
        path = os.path.join(FIXTURES, path)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            sys.stdout.write(line.replace("__FINAL__", final))
    sys.stdout.flush()


def main():
    scenario_path = os.environ.get("FAKE_AGENT_SCENARIO") or os.path.join(
        os.getcwd(), ".fake-agent", "scenario.json")
    home = os.path.dirname(os.path.abspath(scenario_path))
    prompt, interactive = parse_args(sys.argv[1:])
    phase_match = PHASE_RE.search(prompt)
    phase = phase_match.group(1) if phase_match else "unknown"
    variables = {"PHASE": phase}
    step = STEP_RE.search(prompt)
    if step:
        variables["ISSUE_ID"], variables["TITLE"] = step.group(1), step.group(2).strip()
    with open(scenario_path, encoding="utf-8") as handle:
        scenario = json.load(handle)

    with Locked(os.path.join(home, "lock")):
        state_path = os.path.join(home, "state.json")
        try:
            with open(state_path, encoding="utf-8") as handle:
                state = json.load(handle)
        except (OSError, ValueError):
            state = {"calls": 0, "used": {}}
        state["calls"] += 1
        number = state["calls"]
        chosen = None
        for index, response in enumerate(scenario.get("responses", [])):
            if response.get("phase") not in (None, phase):
                continue
            if response.get("when") and response["when"] not in prompt:
                continue
            times = response.get("times", 1)
            used = state["used"].get(str(index), 0)
            if times and used >= times:
                continue
            state["used"][str(index)] = used + 1
            chosen = response
            break
        with open(state_path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(state_path + ".tmp", state_path)
        with open(os.path.join(home, "calls.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"n": number, "phase": phase, "issue":
                                     variables.get("ISSUE_ID"), "interactive": interactive,
                                     "argv": sys.argv[1:], "prompt": prompt, "pid": os.getpid(),
                                     "time": time.time(), "cwd": os.getcwd(),
                                     "env": {name: os.environ.get(name) for name in
                                             ("RALPH_MODE", "RALPH_CMD", "RALPH_ARGS",
                                              "RALPH_DIR", "WRAPIX_SANDBOX")},
                                     "response": None if chosen is None else
                                     scenario["responses"].index(chosen)}) + "\n")
    variables["N"] = number
    if chosen is None:
        sys.stderr.write(f"fake agent: no scenario response for a {phase} prompt\n")
        return 3

    if not interactive and FORMAT == "claude":
        emit({"type": "system", "subtype": "init", "model": "fake-agent",
              "session_id": f"fake-{number}"})
    for raw in chosen.get("actions", []):
        action = substitute(raw, variables)
        if "say" in action:
            say(action["say"])
        elif "replay" in action:
            replay(action)
        elif "print" in action:
            emit(action["print"])
        elif "text" in action:
            print(action["text"], flush=True)
        elif "write" in action:
            path = action["write"]["path"]
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(action["write"]["content"])
        elif "run" in action:
            done = subprocess.run(action["run"], capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                sys.stderr.write(f"fake agent: {action['run']} failed: {done.stderr}\n")
                return 4
            if action.get("save"):
                data = json.loads(done.stdout)
                if isinstance(data, list):
                    data = data[0]
                variables[action["save"]] = data["id"]
            if not interactive:
                emit({"type": "assistant", "message": {"role": "assistant", "content": [
                    {"type": "tool_use", "name": "Bash",
                     "input": {"command": " ".join(action["run"])}}]}})
        elif "ask" in action:
            print(action["ask"], flush=True)
            answer = sys.stdin.readline()
            if action.get("save"):
                variables[action["save"]] = answer.strip()
        elif "wait_file" in action:
            deadline = time.monotonic() + float(action.get("timeout", 30))
            while not os.path.exists(action["wait_file"]):
                if time.monotonic() > deadline:
                    sys.stderr.write(f"fake agent: {action['wait_file']} never appeared\n")
                    return 5
                time.sleep(0.02)
        elif "result" in action:
            result(action, number)
            with open(os.path.join(home, f"result-{number}.time"), "w") as handle:
                handle.write(repr(time.time()))
        elif "background" in action:
            child = subprocess.Popen(action["background"])  # inherits stdout and stderr
            if action.get("pid_file"):
                with open(os.path.join(home, action["pid_file"]), "w") as handle:
                    handle.write(str(child.pid))
        elif "hang" in action:
            if action.get("ignore_term"):
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(float(action["hang"]))
        elif "exit" in action:
            sys.stdout.flush()
            return int(action["exit"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
