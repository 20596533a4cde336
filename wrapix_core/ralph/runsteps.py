"""The running steps of a ``ralph loop --parallel``, in a file the TUI board follows.

Each parallel loop writes ``state/parallel-<pid>.run.json`` in Ralph's directory (a
name that is never a label's: it has dots) and replaces it atomically as its steps
change: one entry per issue, with its session, its sandbox, when it started and where
it is — ``running`` (the agent works), ``queued`` (finished, waiting for the merge queue),
``landing`` (being merged), ``conflict`` (refused: back open, its session kept; the entry
stays until the loop ends so the board can say so). A step that ended otherwise is
removed; the file is removed when the loop ends. The loop holds
``locks/run-<pid>.lock`` while it runs: a file whose lock nobody holds is left from a loop
that died, and is ignored (and removed by the next loop).

The file is host-side state, but it is read as untrusted input all the same: Ralph's
directory is in the workspace by default (``.wrapix/ralph``), which sandboxes get
read-only, yet agents run on the host with ``ralph.host`` and a ``RALPH_DIR`` elsewhere
in the workspace is protected only in Ralph's own sandboxes. So it is read without
following links, bounded in size, and every field is checked; what does not fit is
dropped with a problem said, never a traceback. Names are shown inert by the reader.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.ralph.lock import RalphLock, is_held
from wrapix_core.ralph.state import LABEL_RE, RalphPaths
from wrapix_core.tasks import timestamps

STATES = ("running", "queued", "landing", "conflict")
FILE_RE = re.compile(r"parallel-([0-9]{1,10})\.run\.json")
ISSUE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
"""A session's or a sandbox's name (Podman's rule, bounded)."""
MAX_BYTES = 64 * 1024
MAX_STEPS = 64


@dataclass(frozen=True)
class RunStep:
    """One issue a parallel loop is working (or could not land)."""

    issue: str
    started_at: str
    state: str = "running"
    session: str = ""
    sandbox: str = ""

    @property
    def started(self) -> float:
        """Seconds since the epoch (0 when unknown)."""
        return timestamps.parse(self.started_at) or 0.0

    def to_json(self) -> dict[str, str]:
        return {"issue": self.issue, "session": self.session, "sandbox": self.sandbox,
                "started_at": self.started_at, "state": self.state}


@dataclass(frozen=True)
class ParallelRun:
    """One parallel loop going on, as its file says."""

    label: str
    parallel: int
    pid: int
    host: str
    started_at: str
    steps: tuple[RunStep, ...] = ()


@dataclass
class RunsRead:
    """Every parallel loop going on in a workspace, and what could not be read."""

    runs: list[ParallelRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def steps(self) -> dict[str, RunStep]:
        """Each issue's step (the first loop naming it wins)."""
        found: dict[str, RunStep] = {}
        for run in self.runs:
            for step in run.steps:
                found.setdefault(step.issue, step)
        return found


def run_file(paths: RalphPaths, pid: int) -> Path:
    return paths.state_dir / f"parallel-{pid}.run.json"


def run_lock(paths: RalphPaths, pid: int) -> Path:
    return paths.locks / f"run-{pid}.lock"


class RunRecorder:
    """The writer, owned by one :class:`~wrapix_core.ralph.parallel.ParallelLoop`."""

    def __init__(self, paths: RalphPaths, label: str, parallel: int) -> None:
        self.paths = paths
        self.pid = os.getpid()
        self.path = run_file(paths, self.pid)
        self.run = ParallelRun(label, parallel, self.pid, socket.gethostname(),
                               timestamps.now())
        self._steps: dict[str, RunStep] = {}
        self._lock = RalphLock(run_lock(paths, self.pid), "the parallel run's record",
                               paths.anchor)

    def start(self) -> None:
        """Hold the run's lock, drop the files of loops that died, write an empty run."""
        self.paths.makedirs(self.paths.locks)
        if not self._lock.try_acquire():
            raise WrapixError(f"{run_lock(self.paths, self.pid)} is held by another loop "
                              "of this process", "run one parallel loop at a time here")
        for name, pid in _run_files(self.paths):
            if pid != self.pid and not is_held(run_lock(self.paths, pid), self.paths.anchor):
                workspace_fs.unlink(self.paths.anchor, self.paths.state_dir / name)
        self._write()

    def set(self, issue: str, state: str = "running", *, session: str | None = None,
            sandbox: str | None = None) -> None:
        """Record ``issue`` (new: started now) in ``state``."""
        step = self._steps.get(issue) or RunStep(issue, timestamps.now())
        self._steps[issue] = replace(
            step, state=state, session=step.session if session is None else session,
            sandbox=step.sandbox if sandbox is None else sandbox)
        self._write()

    def drop(self, issue: str) -> None:
        if self._steps.pop(issue, None) is not None:
            self._write()

    def end(self) -> None:
        """The loop ended: the file goes, then the lock."""
        try:
            with contextlib.suppress(OSError):
                workspace_fs.unlink(self.paths.anchor, self.path)
        finally:
            self._lock.release()

    def _write(self) -> None:
        run = self.run
        data = {"label": run.label, "parallel": run.parallel, "pid": run.pid,
                "host": run.host, "started_at": run.started_at,
                "steps": [step.to_json() for step in self._steps.values()]}
        with contextlib.suppress(OSError):  # the board shows less; the loop goes on
            self.paths.write_text(self.path, json.dumps(data, indent=1) + "\n")


def _run_files(paths: RalphPaths) -> list[tuple[str, int]]:
    """The loops' run files in the state directory: (name, the loop's pid), by name."""
    try:
        names = workspace_fs.listdir(paths.anchor, paths.state_dir)
    except (OSError, WrapixError):  # a link on the way: nothing read through it
        return []
    return sorted((name, int(found.group(1))) for name in names
                  if (found := FILE_RE.fullmatch(name)))


def read_runs(paths: RalphPaths) -> RunsRead:
    """The parallel loops going on (their lock held), each file checked field by field."""
    read = RunsRead()
    for name, pid in _run_files(paths):
        path = paths.state_dir / name
        try:
            if not is_held(run_lock(paths, pid), paths.anchor):
                continue  # left by a loop that died
            raw = workspace_fs.read_bytes(paths.anchor, path, MAX_BYTES + 1)
        except FileNotFoundError:
            continue  # the loop ended meanwhile
        except (OSError, WrapixError) as exc:  # a link (refused), a directory, …
            read.problems.append(f"{path}: cannot read ({exc})")
            continue
        try:
            if len(raw) > MAX_BYTES:
                raise ValueError(f"over {MAX_BYTES} bytes")
            read.runs.append(parse_run(json.loads(raw.decode("utf-8")), pid))
        except (ValueError, UnicodeDecodeError) as exc:
            read.problems.append(f"{path}: not a parallel run's record ({exc})")
    return read


def parse_run(data: Any, pid: int) -> ParallelRun:
    """A run file's content, strictly; ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    label, parallel, steps = data.get("label"), data.get("parallel"), data.get("steps")
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise ValueError("bad label")
    if not isinstance(parallel, int) or isinstance(parallel, bool) or not 0 < parallel < 1000:
        raise ValueError("bad parallel")
    if data.get("pid") != pid:
        raise ValueError("its pid is not its name's")
    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        raise ValueError("bad steps")
    return ParallelRun(label, parallel, pid, _text(data.get("host"), 255),
                       _time(data.get("started_at")), tuple(_step(item) for item in steps))


def _step(data: Any) -> RunStep:
    if not isinstance(data, dict):
        raise ValueError("a step is not an object")
    issue, state = data.get("issue"), data.get("state")
    if not isinstance(issue, str) or not ISSUE_RE.fullmatch(issue):
        raise ValueError("a step's issue is not an issue id")
    if state not in STATES:
        raise ValueError(f"a step's state is not one of {', '.join(STATES)}")
    names = []
    for key in ("session", "sandbox"):
        value = data.get(key) or ""
        if not isinstance(value, str) or (value and not NAME_RE.fullmatch(value)):
            raise ValueError(f"a step's {key} is not a name")
        names.append(value)
    return RunStep(issue, _time(data.get("started_at")), str(state), names[0], names[1])


def _time(value: Any) -> str:
    if timestamps.parse(value) is None:
        raise ValueError("a time is not an ISO 8601 time")
    return str(value)


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""
