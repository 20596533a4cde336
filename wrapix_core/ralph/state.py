"""Ralph's state directory: ``<workspace>/.wrapix/ralph/`` (``RALPH_DIR`` overrides).

::

    config.toml          Ralph settings for this project (the keys of ``[ralph]``)
    state/current        the current label
    state/<label>.json   label, spec path, epic id, iteration counts, running steps, the
                         commit before its first step, its last log
    state/<label>.spec.md  the spec as the last ``ralph ready`` read it
    state/locks/         lock files (one per label, one per issue being worked)
    templates/           the project's copies of the prompts (``ralph tune`` edits them)
    logs/                one log per agent session: ``<issue>-<time>.log``, ``plan-…``,
                         ``ready-…``, ``check-…``

Settings precedence for Ralph, later wins: built-in defaults, the user config, the
project ``wrapix.toml`` ``[ralph]`` table, this directory's ``config.toml``, then the
``WRAPIX_RALPH__*`` environment variables (and ``RALPH_AGENT`` for the agent command).

Writes are atomic (readers see the old or the new file); changes to a label's state
happen under the label's lock (:func:`mutate`).
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from wrapix_core import workspace_fs
from wrapix_core.errors import ConfigError
from wrapix_core.ralph.errors import NotStarted, RalphError
from wrapix_core.ralph.lock import holding
from wrapix_core.settings import RalphSettings, Settings, toml_text
from wrapix_core.tasks import timestamps

RALPH_DIR_ENV = "RALPH_DIR"
DEFAULT_DIR = ".wrapix/ralph"
LABEL_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")
PHASES = ("plan", "ready", "step", "check")


def check_label(label: str) -> str:
    """A label as given, or an error saying what a label may be."""
    if not LABEL_RE.fullmatch(label):
        raise RalphError(f"label {label!r} is not valid",
                         "use lowercase letters, digits, '-' and '_' (at most 48, starting "
                         "with a letter or digit), e.g. `ralph start login-form`")
    return label


@dataclass(frozen=True)
class RalphPaths:
    """Where one workspace's Ralph files are."""

    workspace: Path
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def current_file(self) -> Path:
        return self.state_dir / "current"

    @property
    def locks(self) -> Path:
        return self.state_dir / "locks"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def label_file(self, label: str) -> Path:
        return self.state_dir / f"{check_label(label)}.json"

    def label_lock(self, label: str) -> Path:
        return self.locks / f"label-{check_label(label)}.lock"

    def issue_lock(self, issue_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", issue_id)
        return self.locks / f"issue-{safe}.lock"

    def in_workspace(self, path: Path) -> str:
        """``path`` relative to the workspace when it is inside it (for prompts and the
        sandbox, where the workspace is ``/workspace``), else absolute."""
        try:
            return path.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return str(path)

    @property
    def anchor(self) -> Path:
        """Where host-side access to these files starts: the workspace when the Ralph
        directory is in it (no link below it is followed, see
        :mod:`wrapix_core.workspace_fs`), else the Ralph directory itself."""
        return self.workspace if _is_within(self.root, self.workspace) else self.root

    def read_text(self, path: Path, errors: str = "strict") -> str:
        """``path`` (one of these files) read without following a link."""
        return workspace_fs.read_text(self.anchor, path, errors)

    def write_text(self, path: Path, text: str) -> None:
        """Replace ``path`` atomically, never through a link."""
        workspace_fs.write_atomic(self.anchor, path, text.encode("utf-8"))

    def kind(self, path: Path) -> str:
        """'missing', 'dir', 'file', 'link' or 'other' (a link above it is refused)."""
        if path == self.anchor:
            return "dir" if path.is_dir() else "missing"
        return workspace_fs.kind(self.anchor, path)

    def makedirs(self, path: Path) -> None:
        workspace_fs.makedirs(self.anchor, path)

    @property
    def exists(self) -> bool:
        try:
            return workspace_fs.is_real_dir(self.anchor, self.state_dir)
        except workspace_fs.LinkRefused:
            return False


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def ralph_paths(workspace: Path, env: Mapping[str, str] | None = None) -> RalphPaths:
    """The Ralph directory of ``workspace``; ``RALPH_DIR`` (relative to the workspace, or
    absolute) overrides the default ``.wrapix/ralph``."""
    environ = os.environ if env is None else env
    workspace = workspace.resolve()
    override = environ.get(RALPH_DIR_ENV, "").strip()
    root = Path(override).expanduser() if override else Path(DEFAULT_DIR)
    if not root.is_absolute():
        root = workspace / root
    return RalphPaths(workspace, root)


# -- settings -----------------------------------------------------------------------------
def ralph_settings(settings: Settings, paths: RalphPaths,
                   env: Mapping[str, str] | None = None) -> RalphSettings:
    """Effective Ralph settings: ``settings.ralph`` with ``config.toml`` over it, except
    where a ``WRAPIX_RALPH__KEY`` environment variable set the key."""
    try:
        text = paths.read_text(paths.config)
    except FileNotFoundError:
        return settings.ralph
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{paths.config}: cannot read ({exc})") from None
    data = toml_text(paths.config, text)
    ralph_table = data.get("ralph", data)
    if not isinstance(ralph_table, dict):
        raise ConfigError(f"{paths.config}: expected Ralph keys such as `agent = \"…\"`")
    if "hooks" in ralph_table:
        raise ConfigError(f"{paths.config}: key 'hooks': hooks run on this machine, and this "
                          "file is in the workspace, which agents can write",
                          "set ralph.hooks in your user config or in wrapix.toml (trusted "
                          "with `wrapix trust`)")
    environ = os.environ if env is None else env
    set_by_env = {name.upper() for name in environ}
    overlay = {key: value for key, value in ralph_table.items()
               if f"WRAPIX_RALPH__{key.upper()}" not in set_by_env}
    try:
        RalphSettings.model_validate(ralph_table)
        return RalphSettings.model_validate({**settings.ralph.model_dump(), **overlay})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{paths.config}: key '{key}': {first['msg']}",
                          "fix the value or remove it") from None


CONFIG_TEMPLATE = """\
# Ralph settings for this project. Every key is optional; these are the defaults.
# The same keys work in wrapix.toml under [ralph]; WRAPIX_RALPH__<KEY> and RALPH_AGENT
# in the environment win over this file.

# agent = "claude --dangerously-skip-permissions"   # split like a shell splits words
# host = false          # true: run agents here instead of in a sandbox
# profile = "base"      # sandbox profile for agent sessions (default: sandbox.profile)
# review = true         # `ralph ready` proposes issues for `ralph review`
# retries = 2           # extra attempts for a step that fails or ends without a signal
# watchdog = 30.0       # seconds an agent may run on after its final result
# step_timeout = 3600.0 # seconds one agent session may take
# pause_on_failure = false  # true: `ralph loop` stops at the first failed issue
# check = ["pytest -q"] # run after WORK_COMPLETE before the issue closes (never a shell)
# check_timeout = 1800.0
# hooks: only in your user config or wrapix.toml ([ralph.hooks], argv lists), not here
# max_iterations = 3    # `ralph loop --check`: rounds of loop, then check
# parallel = 2         # issues at once in a parallel loop started from the TUI (L)
#
# [agents]              # an agent per phase (plan, ready, step, check); unset: `agent`
# check = "claude --dangerously-skip-permissions --model opus"
"""


# -- the current label ------------------------------------------------------------------
def current_label(paths: RalphPaths) -> str | None:
    try:
        text = paths.read_text(paths.current_file).strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return text if LABEL_RE.fullmatch(text) else None


def set_current(paths: RalphPaths, label: str) -> None:
    paths.write_text(paths.current_file, check_label(label) + "\n")


def resolve_label(paths: RalphPaths, label: str | None) -> str:
    """``label`` (checked), else the current label; an error saying how to start one."""
    if label:
        return check_label(label)
    current = current_label(paths)
    if current is None:
        raise NotStarted(f"no current Ralph label in {paths.root}",
                         "start one with `ralph start LABEL` (or pick one with `ralph use "
                         "LABEL`)")
    return current


def known_labels(paths: RalphPaths) -> list[str]:
    try:
        names = sorted(workspace_fs.listdir(paths.anchor, paths.state_dir))
    except OSError:
        return []
    return [name[:-5] for name in names
            if name.endswith(".json") and LABEL_RE.fullmatch(name[:-5])]


# -- per-label state --------------------------------------------------------------------
@dataclass
class RunningStep:
    """A step that claimed an issue; removed when the step ends, however it ends."""

    issue: str
    pid: int
    host: str
    started_at: str
    log: str
    attempt: int = 1
    sandbox: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"issue": self.issue, "pid": self.pid, "host": self.host,
                "started_at": self.started_at, "log": self.log, "attempt": self.attempt,
                "sandbox": self.sandbox}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunningStep:
        return cls(issue=str(data.get("issue", "")), pid=int(data.get("pid") or 0),
                   host=str(data.get("host", "")), started_at=str(data.get("started_at", "")),
                   log=str(data.get("log", "")), attempt=int(data.get("attempt") or 1),
                   sandbox=data.get("sandbox") if isinstance(data.get("sandbox"), str) else None)

    @classmethod
    def now(cls, issue: str, log: str, sandbox: str | None) -> RunningStep:
        return cls(issue, os.getpid(), socket.gethostname(), timestamps.now(), log, 1, sandbox)


@dataclass
class LabelState:
    """``state/<label>.json``. Unknown keys are kept."""

    label: str
    spec: str
    epic: str | None = None
    created_at: str = ""
    iterations: dict[str, int] = field(default_factory=dict)
    running: dict[str, RunningStep] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spec_name(self) -> str:
        return Path(self.spec).stem

    def count(self, phase: str) -> None:
        self.iterations[phase] = self.iterations.get(phase, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {**self.extra, "label": self.label, "spec": self.spec, "epic": self.epic,
                "created_at": self.created_at,
                "iterations": {phase: self.iterations.get(phase, 0) for phase in
                               sorted({*PHASES, *self.iterations})},
                "running": {issue: step.to_json() for issue, step in self.running.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], label: str) -> LabelState:
        known = {"label", "spec", "epic", "created_at", "iterations", "running"}
        iterations = data.get("iterations")
        running = data.get("running")
        epic = data.get("epic")
        return cls(
            label=label,
            spec=str(data.get("spec") or f"specs/{label}.md"),
            epic=epic if isinstance(epic, str) and epic else None,
            created_at=str(data.get("created_at") or ""),
            iterations={str(key): int(value) for key, value in iterations.items()
                        if isinstance(value, int)} if isinstance(iterations, dict) else {},
            running={str(key): RunningStep.from_json(value) for key, value in running.items()
                     if isinstance(value, dict)} if isinstance(running, dict) else {},
            extra={key: value for key, value in data.items() if key not in known},
        )


def read_label_state(paths: RalphPaths, label: str) -> LabelState:
    path = paths.label_file(label)
    try:
        data = json.loads(paths.read_text(path))
    except FileNotFoundError:
        raise NotStarted(f"no Ralph state for label '{label}' ({path})",
                         f"start it with `ralph start {label}`") from None
    except (OSError, ValueError) as exc:
        raise RalphError(f"{path}: cannot read Ralph state ({exc})",
                         "fix or remove the file, then run `ralph start "
                         f"{label}` again") from None
    if not isinstance(data, dict):
        raise RalphError(f"{path}: not a JSON object", "fix or remove the file")
    state = LabelState.from_json(data, label)
    spec = PurePosixPath(state.spec)
    if spec.is_absolute() or ".." in spec.parts or not spec.parts:
        # Ralph reads the spec on the host and names it in prompts: never a file
        # outside the workspace.
        raise RalphError(f"{path}: the spec {state.spec!r} is not a path inside the "
                         "workspace", f"set \"spec\" to e.g. \"specs/{label}.md\"")
    return state


def write_label_state(paths: RalphPaths, state: LabelState) -> None:
    """Replace ``state/<label>.json`` (call under the label lock, see :func:`mutate`)."""
    paths.write_text(paths.label_file(state.label),
                     json.dumps(state.to_json(), indent=2, sort_keys=False) + "\n")


async def mutate(paths: RalphPaths, label: str,
                 change: Callable[[LabelState], object]) -> LabelState:
    """Read, change and write a label's state under its lock; returns the new state."""
    async with holding(paths.label_lock(label), f"Ralph label '{label}'",
                       anchor=paths.anchor):
        state = read_label_state(paths, label)
        change(state)
        write_label_state(paths, state)
        return state
