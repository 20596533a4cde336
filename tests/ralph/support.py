"""A Ralph workspace for tests: the fake agent on PATH, a scenario, the CLIs as processes.

The fake agent (``tests/ralph/fake_agent.py``) is the only fake: the ``ralph`` and
``wrapix tasks`` commands, the issue store, locks, logs and sandboxes are the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cli import script

FAKE_AGENT = Path(__file__).resolve().parent / "fake_agent.py"
AGENT_CREDENTIALS = {"ANTHROPIC_API_KEY": "fake-key-for-the-fake-agent"}
"""The fake agent is named ``claude``, whose credentials Ralph checks before a step
(the credential tests take this away)."""
SPEC = """# Demo feature

A small feature for the Ralph tests.

## Problem Statement

Tests need a spec.

## Requirements

### Functional
1. Do the thing

## Success Criteria

- [ ] The thing is done
- [ ] It is tested

## Out of Scope

- Everything else
"""


def install_agent(bin_dir: Path, name: str = "claude") -> Path:
    """The fake agent as ``bin_dir/name`` (executable)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    target = bin_dir / name
    shutil.copyfile(FAKE_AGENT, target)
    target.chmod(0o755)
    return target


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0,
               what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.02)


def process_gone(pid: int) -> bool:
    """True when ``pid`` has exited (gone, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# -- scenario pieces --------------------------------------------------------------------
def respond(*actions: Mapping[str, Any], phase: str = "step", when: str | None = None,
            times: int = 1) -> dict[str, Any]:
    response: dict[str, Any] = {"phase": phase, "times": times, "actions": list(actions)}
    if when is not None:
        response["when"] = when
    return response


def complete(when: str | None = None, times: int = 1, *before: Mapping[str, Any]
             ) -> dict[str, Any]:
    return respond(*before, {"say": "Implementing {ISSUE_ID}."},
                   {"result": "Implemented and tested {ISSUE_ID}.\n\nWORK_COMPLETE"},
                   when=when, times=times)


def final(text: str, when: str | None = None, times: int = 1, **extra: Any) -> dict[str, Any]:
    return respond({"say": "Looking at {ISSUE_ID}."}, {"result": text, **extra},
                   when=when, times=times)


@dataclass
class Workspace:
    """A project directory with Ralph started, the fake agent and helpers."""

    root: Path
    bin: Path
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def fake_dir(self) -> Path:
        return self.root / ".fake-agent"

    @property
    def ralph_dir(self) -> Path:
        return self.root / ".wrapix" / "ralph"

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join([str(self.bin), str(Path(sys.executable).parent),
                                os.environ.get("PATH", os.defpath)])
        return {**os.environ, "PATH": path, "WRAPIX_RALPH__HOST": "true",
                "WRAPIX_RALPH__WATCHDOG": "1", **AGENT_CREDENTIALS, **self.env_extra, **extra}

    def scenario(self, *responses: Mapping[str, Any]) -> None:
        self.fake_dir.mkdir(exist_ok=True)
        (self.fake_dir / "scenario.json").write_text(json.dumps({"responses": list(responses)}))
        for stale in ("state.json", "calls.jsonl"):
            (self.fake_dir / stale).unlink(missing_ok=True)

    def ralph(self, *args: str, input: str | None = None, timeout: float = 120,
              **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([script("ralph"), *args], cwd=self.root, env=self.env(**env),
                              input=input, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def popen(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen([script("ralph"), *args], cwd=self.root, env=self.env(**env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def tasks(self, *args: str) -> Any:
        done = subprocess.run([script("wrapix"), "tasks", *args, "--json"], cwd=self.root,
                              env=self.env(), capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def create(self, title: str, *, priority: int = 2, labels: Iterable[str] = ("rl-demo",),
               deps: Iterable[str] = (), parent: str | None = None, issue_type: str = "task",
               description: str = "") -> str:
        args = ["create", "--title", title, "--priority", str(priority), "--type", issue_type]
        if labels:
            args += ["--labels", ",".join(labels)]
        if deps:
            args += ["--deps", ",".join(deps)]
        if parent:
            args += ["--parent", parent]
        if description:
            args += ["--description", description]
        return str(self.tasks(*args)["id"])

    def issue(self, issue_id: str) -> dict[str, Any]:
        shown = self.tasks("show", issue_id)
        return shown[0] if isinstance(shown, list) else shown

    def calls(self) -> list[dict[str, Any]]:
        path = self.fake_dir / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]

    def worked(self) -> list[str]:
        """Issue ids the fake agent was called for, in call order."""
        return [call["issue"] for call in self.calls() if call["phase"] == "step"]

    def result_time(self, number: int) -> float:
        return float((self.fake_dir / f"result-{number}.time").read_text())

    def logs(self) -> list[Path]:
        return sorted((self.ralph_dir / "logs").glob("*.log"))


def make_workspace(root: Path, label: str = "demo", spec: str | None = SPEC) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(root, root.parent / f"{root.name}-bin")
    install_agent(workspace.bin)
    if spec is not None:
        (root / "specs").mkdir(exist_ok=True)
        (root / "specs" / f"{label}.md").write_text(spec)
    started = workspace.ralph("start", label)
    assert started.returncode == 0, started.stderr
    return workspace
