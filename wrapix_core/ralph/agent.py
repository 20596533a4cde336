"""Running one agent session: in a fresh sandbox for the workspace, or on the host.

The agent command is a setting (``ralph.agent``, default ``claude
--dangerously-skip-permissions``), overridden by ``RALPH_AGENT``; both are split as a
shell splits words (:func:`shlex.split`) and never run by a shell. Non-interactive phases
add ``-p PROMPT --output-format stream-json --verbose``; the interactive plan interview
passes the prompt as the last argument.

Every output line (stderr merged) goes to the session's log as it arrives, then to the
caller's callback. The session ends when the agent exits, when ``step_timeout`` passes,
or — the watchdog — ``watchdog`` seconds after the final result record when the agent
keeps running (its process group gets SIGTERM, then SIGKILL). Children the agent leaves
behind are ended with it: :data:`ORPHAN_GRACE` seconds after the agent itself exited the
session is over even if a background process still holds its output, and what is left
of its process group is ended (SIGTERM, then SIGKILL). In a sandbox the container is
removed afterwards whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, TextIO

from wrapix_core import proc, workspace_fs
from wrapix_core.agents import ralph as adapters
from wrapix_core.agents.registry import AgentName
from wrapix_core.errors import WrapixError
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.signals import (
    FinalResult,
    OutputReader,
    Signal,
    readable,
    strip_terminal,
)
from wrapix_core.settings import RalphSettings, Settings

if TYPE_CHECKING:
    from wrapix_core.image.progress import BuildEvent
    from wrapix_core.sandbox.launcher import LaunchRequest, Prepared
    from wrapix_core.sandbox.model import SessionMount, StagingAction

AGENT_ENV = "RALPH_AGENT"
PRINT_FLAGS = ("--output-format", "stream-json", "--verbose")
ORPHAN_GRACE = 2.0
"""Seconds the output of an agent that exited is still read (what it wrote last)."""

LineCallback = Callable[[str], None]
NoteCallback = Callable[[str], None]


def agent_command(ralph: RalphSettings, env: Mapping[str, str] | None = None,
                  phase: str | None = None) -> list[str]:
    """The agent's argv prefix: the phase's ``ralph.agents.PHASE`` when set, else
    ``RALPH_AGENT`` when set, else the ``ralph.agent`` setting."""
    environ = os.environ if env is None else env
    override = environ.get(AGENT_ENV, "").strip()
    per_phase = getattr(ralph.agents, phase, None) if phase else None
    if per_phase is not None:
        line, origin = per_phase, f"the ralph.agents.{phase} setting"
    elif override:
        line, origin = override, AGENT_ENV
    else:
        line, origin = ralph.agent, "the ralph.agent setting"
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise RalphError(f"{origin} is not a valid command line ({exc}): {line!r}",
                         "quote it the way a shell would") from None
    if not argv:
        raise RalphError(f"{origin} is empty", "set it to an agent (claude, codex, gemini, "
                         "opencode) or its command, e.g. `claude --dangerously-skip-permissions`")
    return adapters.expand(argv)


def print_argv(agent: list[str], prompt: str) -> list[str]:
    """A non-interactive session with machine-readable output, in the form the agent's
    adapter knows (:mod:`wrapix_core.agents.ralph`)."""
    return adapters.print_argv(agent, prompt)


def interactive_argv(agent: list[str], prompt: str) -> list[str]:
    """An interactive session on the terminal, starting from ``prompt``."""
    return adapters.interactive_argv(agent, prompt)


@dataclass(frozen=True)
class Session:
    """One agent session to run."""

    phase: str
    """``plan``, ``ready``, ``step`` or ``check``."""
    prompt: str
    log: Path
    name: str
    """Container name suffix (``ralph-<issue>``), unique per concurrent session."""
    ralph_args: tuple[str, ...] = ()
    """``RALPH_ARGS`` in the sandbox (the label, the issue)."""
    timeout: float = 3600.0
    watchdog: float = 30.0
    agent: tuple[str, ...] = ()
    """The agent's argv prefix for this session; empty: the runner's."""
    profile: str | None = None
    """The sandbox profile for this session (an issue's ``profile:NAME``); None: the
    runner's (``ralph.profile``, else ``sandbox.profile``)."""
    anchor: Path | None = None
    """Where no link on the way to ``log`` is followed from (the workspace); None: the
    log's own directory."""

    def open_log(self, errors: str = "strict") -> TextIO:
        """The log, open for appending (never through a link)."""
        if self.anchor is None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
        return workspace_fs.open_append_text(self.anchor or self.log.parent, self.log, errors)


@dataclass(frozen=True)
class SessionResult:
    log: Path
    returncode: int | None
    """None when the agent could not be started."""
    final: FinalResult
    signal: Signal | None
    timed_out: bool = False
    watchdog_fired: bool = False
    start_error: str = ""
    result_at: float | None = None
    """``time.monotonic()`` when the result record arrived."""
    ended_at: float = 0.0
    tail: tuple[str, ...] = field(default=())
    """The last raw lines (for messages)."""

    def failure(self) -> str | None:
        """Why this session is not a usable answer, or None when it is."""
        if self.start_error:
            return self.start_error
        if self.timed_out:
            return "the agent did not finish within the step timeout"
        said = self.said()
        if self.returncode not in (0, None) and not self.watchdog_fired:
            return f"the agent exited with code {self.returncode}" + (
                f": {said}" if said else "")
        if self.final.source == "result" and self.final.is_error and self.signal is None:
            return f"the agent reported an error ({self.final.subtype or 'is_error'})" + (
                f": {said}" if said else "")
        if self.signal is None:
            if self.final.source == "none":
                return "the agent's output ended without a result record"
            return "the agent's final message has no signal"
        return None

    def said(self) -> str:
        """The agent's own last words, for a failure message: its result text, else its
        last readable output line (a stream-json record is read, never shown raw);
        sanitized and cut to one short line."""
        text = self.final.text.strip() if self.final.source == "result" else ""
        if not text:
            for raw in reversed(self.tail):
                shown = [line for line in readable(raw) if line.strip()]
                if shown:
                    text = shown[-1]
                    break
        return _one_line(text)

    def fatal(self) -> str | None:
        """The failure when retrying cannot fix it (not logged in, a bad API key, the
        agent missing), else None."""
        if self.start_error:
            return self.start_error
        if self.final.source != "result" and self.returncode in (0, None):
            return None
        said = self.said()
        if said and AUTH_ERROR.search(said) and (self.final.is_error
                                                  or self.returncode not in (0, None)):
            return f"the agent cannot work: {said}"
        return None


def _one_line(text: str, limit: int = 300) -> str:
    from wrapix_core.untrusted import display_text

    return display_text(" ".join(strip_terminal(text).split()), limit)


AUTH_ERROR = re.compile(
    r"not logged in|please run /login|invalid api key|invalid x-api-key|"
    r"authentication[_ ]error|oauth token (?:has )?expired|401 unauthorized|"
    r"credit balance is too low|permission_error", re.IGNORECASE)
"""What an agent says when retrying cannot help: it has no (valid) credentials."""


class Runner(Protocol):
    """Where sessions run. ``where`` names it for people."""

    where: str

    def describe(self, session: Session) -> str: ...

    async def run(self, session: Session, on_line: LineCallback) -> SessionResult: ...

    async def run_command(self, session: Session, argv: list[str], on_line: LineCallback,
                          timeout: float) -> CommandResult:
        """Run a ``check`` command where the session's agent runs (its log is the
        session's)."""
        ...

    async def interactive(self, session: Session) -> tuple[list[str], dict[str, str]]: ...

    async def interactive_done(self, session: Session) -> None: ...


async def stream_session(argv: list[str], session: Session, on_line: LineCallback, *,
                         env: Mapping[str, str] | None = None,
                         cwd: Path | None = None,
                         agent: AgentName = "claude") -> SessionResult:
    """Run ``argv``, log and forward its output, judge its final result (read the way
    ``agent``'s adapter reads it)."""
    reader = OutputReader(agent)
    tail: list[str] = []
    deadline = time.monotonic() + session.timeout
    result_at: float | None = None
    returncode: int | None = None
    timed_out = watchdog = False
    start_error = ""
    with session.open_log(errors="replace") as log:
        try:
            async with proc.open_lines(argv, env=env, cwd=cwd, stderr_to_stdout=True,
                                       orphan_grace=ORPHAN_GRACE) as lines:
                returncode, result_at, timed_out, watchdog = await _pump(
                    lines, reader, log, tail, on_line, deadline, session.watchdog)
                if lines.orphaned:
                    log.write("[ralph] the agent exited but processes it started still held "
                              "its output: ended them\n")
            if returncode is None:
                returncode = lines.process.returncode
        except proc.CommandNotFound as exc:
            start_error = f"cannot run the agent: {exc}"
            log.write(f"[ralph] {start_error}\n")
        except PermissionError as exc:  # e.g. an unreadable directory on PATH
            start_error = (f"cannot run the agent: {argv[0]}: {exc.strerror} (is it on PATH "
                           "and executable?)")
            log.write(f"[ralph] {start_error}\n")
    return SessionResult(session.log, returncode, reader.final(), reader.signal(),
                         timed_out=timed_out, watchdog_fired=watchdog,
                         start_error=start_error, result_at=result_at,
                         ended_at=time.monotonic(), tail=tuple(tail))


async def _pump(lines: proc.LineStream, reader: OutputReader, log: IO[str], tail: list[str],
                on_line: LineCallback, deadline: float, watchdog_after: float
                ) -> tuple[int | None, float | None, bool, bool]:
    """Read lines until the end, the deadline, or the watchdog.

    Returns (exit code when it exited by itself, result time, timed out, watchdog fired).
    """
    iterator = lines.__aiter__()
    result_at: float | None = None
    while True:
        now = time.monotonic()
        limit = deadline - now
        if result_at is not None:
            limit = min(limit, result_at + watchdog_after - now)
        try:
            line = await asyncio.wait_for(iterator.__anext__(), max(limit, 0.0))
        except StopAsyncIteration:
            return 0, result_at, False, False
        except proc.CommandFailed as exc:
            return exc.returncode, result_at, False, False
        except TimeoutError:
            if time.monotonic() >= deadline:
                log.write("[ralph] step timeout: ending the agent\n")
                return None, result_at, True, False
            log.write(f"[ralph] the agent kept running {watchdog_after:g}s after its final "
                      "result: ending it\n")
            return None, result_at, False, True
        except ValueError:  # one line longer than the stream's limit: dropped
            log.write("[ralph] a line over 1 MiB was dropped\n")
            continue
        log.write(line + "\n")
        log.flush()
        tail.append(line)
        del tail[:-20]
        results = reader.results
        reader.feed(line)
        if reader.results != results:
            result_at = time.monotonic()
        on_line(line)


@dataclass(frozen=True)
class CommandResult:
    """How a ``check`` command or a hook ended."""

    returncode: int | None
    tail: tuple[str, ...] = ()
    """Its last output lines (raw: sanitize before showing)."""
    timed_out: bool = False
    start_error: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.start_error

    def detail(self, timeout: float) -> str:
        if self.start_error:
            return self.start_error
        if self.timed_out:
            return f"timed out after {timeout:g}s"
        return f"exit {self.returncode}"


COMMAND_TAIL = 30
"""Output lines of a failed check kept for the next attempt's prompt and the notes."""


async def stream_command(argv: list[str], log: Path, on_line: LineCallback, *,
                         timeout: float, prefix: str, env: Mapping[str, str] | None = None,
                         cwd: Path | None = None,
                         anchor: Path | None = None) -> CommandResult:
    """Run ``argv`` (never through a shell) with a timeout, its output (stderr merged)
    to ``log`` (each line after ``prefix``) and ``on_line``; its process group, children
    left behind included, is ended when it exits or times out."""
    tail: list[str] = []
    started = time.monotonic()
    returncode: int | None = None
    timed_out = False
    start_error = ""
    if anchor is None:
        log.parent.mkdir(parents=True, exist_ok=True)
    with workspace_fs.open_append_text(anchor or log.parent, log, "replace") as handle:
        try:
            async with asyncio.timeout(timeout), proc.open_lines(
                    argv, env=env, cwd=cwd, stderr_to_stdout=True,
                    orphan_grace=ORPHAN_GRACE) as lines:
                try:
                    async for line in lines:
                        handle.write(f"{prefix}{line}\n")
                        handle.flush()
                        tail.append(line)
                        del tail[:-COMMAND_TAIL]
                        on_line(line)
                    returncode = 0
                except proc.CommandFailed as exc:
                    returncode = exc.returncode
        except TimeoutError:
            timed_out = True
            handle.write(f"{prefix}[ralph] did not finish within {timeout:g}s: ended\n")
        except (proc.CommandNotFound, proc.CommandNotExecutable) as exc:
            start_error = f"cannot run {argv[0]}: {exc.message}"
            handle.write(f"{prefix}[ralph] {start_error}\n")
    return CommandResult(returncode, tuple(tail), timed_out, start_error,
                         time.monotonic() - started)


async def remove_sandbox(settings: Settings, name: str, workspace: Path) -> None:
    """Remove the Ralph sandbox ``name`` of ``workspace`` if it still exists; never fails.

    Only a container labelled as Ralph's for this workspace is removed: the name may
    come from a state file, and must never take someone else's container with it.
    """
    from wrapix_core.sandbox import naming
    from wrapix_core.sandbox.runtime import get_runtime

    with contextlib.suppress(WrapixError, OSError):
        runtime = get_runtime(settings.sandbox)
        info = await runtime.inspect(name)
        if info.labels.get(naming.LABEL_ROLE) == "ralph" and info.workspace == str(workspace):
            await runtime.remove(name, force=True)


class HostRunner:
    """Sessions run directly here, in the workspace (``--host``)."""

    where = "host"

    def __init__(self, workspace: Path, agent: list[str],
                 env: Mapping[str, str] | None = None) -> None:
        self.workspace = workspace
        self.agent = agent
        self.env = dict(env or {})

    def describe(self, session: Session) -> str:
        return "host"

    async def run(self, session: Session, on_line: LineCallback) -> SessionResult:
        agent = list(session.agent) or self.agent
        return await stream_session(print_argv(agent, session.prompt), session, on_line,
                                    env=self.env, cwd=self.workspace,
                                    agent=adapters.adapter_name(agent))

    async def run_command(self, session: Session, argv: list[str], on_line: LineCallback,
                          timeout: float) -> CommandResult:
        return await stream_command(argv, session.log, on_line, timeout=timeout,
                                    prefix="[check] ", env=self.env, cwd=self.workspace,
                                    anchor=session.anchor)

    async def interactive(self, session: Session) -> tuple[list[str], dict[str, str]]:
        return (interactive_argv(list(session.agent) or self.agent, session.prompt),
                {**os.environ, **self.env})

    async def interactive_done(self, session: Session) -> None:
        return None


class SandboxRunner:
    """Each session in a fresh sandbox for the workspace (the sandbox engine's launch
    plan, with ``RALPH_*`` in its environment and the agent's argv as its command)."""

    where = "sandbox"

    def __init__(self, workspace: Path, settings: Settings, ralph: RalphSettings,
                 agent: list[str], ralph_dir: str, on_note: NoteCallback | None = None,
                 session: SessionMount | None = None) -> None:
        self.workspace = workspace
        self.session = session
        """The session ``workspace`` is (``ralph loop --parallel``), mounted as one."""
        self.settings = settings
        self.ralph = ralph
        self.agent = agent
        self.ralph_dir = ralph_dir
        self.on_note = on_note or (lambda _message: None)
        self._warned = False
        self._staged: list[StagingAction] = []

    def container(self, session: Session) -> str:
        from wrapix_core.sandbox.naming import container_name

        return container_name(self.workspace, suffix=session.name)

    def describe(self, session: Session) -> str:
        return f"sandbox {self.container(session)}"

    def request(self, session: Session, command: list[str], *,
                interactive: bool) -> LaunchRequest:
        """What the sandbox engine is asked to launch for ``session``."""
        from wrapix_core.sandbox.launcher import LaunchRequest
        from wrapix_core.sandbox.model import RalphEnv

        agent = adapters.adapter_name(list(session.agent) or self.agent)
        return LaunchRequest(
            workspace=self.workspace, profile=session.profile or self.ralph.profile,
            command=tuple(command), name=self.container(session),
            ralph=RalphEnv(session.phase, session.ralph_args, self.ralph_dir),
            role="ralph", interactive=interactive, tty=interactive, agent=agent,
            session=self.session)

    def argv(self, session: Session, *, interactive: bool) -> list[str]:
        agent = list(session.agent) or self.agent
        return interactive_argv(agent, session.prompt) if interactive \
            else print_argv(agent, session.prompt)

    async def prepare(self, session: Session, command: list[str], *,
                      interactive: bool) -> Prepared:
        from wrapix_core.sandbox.launcher import prepare

        def built(event: BuildEvent) -> None:
            if event.starts_step:
                self.on_note(f"image build step {event.step}/{event.total}: "
                             f"{event.line.strip()[:160]}")
            elif event.line.startswith("building "):
                self.on_note(event.line.strip())

        request = self.request(session, command, interactive=interactive)
        catalog = None
        if self.session is not None:  # profiles from the project, never the session's files
            from wrapix_core.profiles import load_catalog

            catalog = load_catalog(self.session.project)
        prepared = await prepare(request, self.settings, catalog=catalog, on_build=built)
        if not self._warned:
            self._warned = True
            for warning in prepared.warnings:
                self.on_note(warning)
        for note in prepared.notes:
            self.on_note(note)
        return prepared

    async def run(self, session: Session, on_line: LineCallback) -> SessionResult:
        from wrapix_core.sandbox import staging

        staged: list[StagingAction] = []
        try:
            prepared = await self.prepare(session, self.argv(session, interactive=False),
                                          interactive=False)
            staged = prepared.plan.staging
            staging.perform(staged)
        except WrapixError as exc:
            staging.undo(staged)
            with session.open_log() as log:
                log.write(f"[ralph] the sandbox could not start: {exc}\n")
            return SessionResult(session.log, None, FinalResult("", "none"), None,
                                 start_error=f"the sandbox could not start: {exc}",
                                 ended_at=time.monotonic())
        try:
            return await stream_session(
                prepared.plan.argv, session, on_line, env=prepared.plan.env,
                cwd=self.workspace,
                agent=adapters.adapter_name(list(session.agent) or self.agent))
        finally:
            staging.undo(staged)
            await self.cleanup(session)

    async def run_command(self, session: Session, argv: list[str], on_line: LineCallback,
                          timeout: float) -> CommandResult:
        """``argv`` in a fresh sandbox like the agent's (same profile, image, mounts and
        environment; the agent's own is gone when it exits), removed afterwards."""
        from wrapix_core.sandbox import staging

        staged: list[StagingAction] = []
        try:
            prepared = await self.prepare(session, argv, interactive=False)
            staged = prepared.plan.staging
            staging.perform(staged)
        except WrapixError as exc:
            staging.undo(staged)
            return CommandResult(None, start_error=f"the sandbox could not start: {exc}")
        try:
            return await stream_command(prepared.plan.argv, session.log, on_line,
                                        timeout=timeout, prefix="[check] ",
                                        env=prepared.plan.env, cwd=self.workspace,
                                        anchor=session.anchor)
        finally:
            staging.undo(staged)
            await self.cleanup(session)

    async def cleanup(self, session: Session) -> None:
        """Remove the session's container if it is still there (an agent ended by the
        watchdog, a crash); never fails."""
        await remove_sandbox(self.settings, self.container(session), self.workspace)

    async def interactive(self, session: Session) -> tuple[list[str], dict[str, str]]:
        """argv and environment for an interactive session (staging done: call
        :meth:`interactive_done` after it)."""
        from wrapix_core.sandbox import staging

        prepared = await self.prepare(session, self.argv(session, interactive=True),
                                      interactive=True)
        try:
            staging.perform(prepared.plan.staging)
        except BaseException:
            staging.undo(prepared.plan.staging)
            raise
        self._staged = prepared.plan.staging
        return prepared.plan.argv, {**os.environ, **prepared.plan.env}

    async def interactive_done(self, session: Session) -> None:
        from wrapix_core.sandbox import staging

        if self._staged:
            staging.undo(self._staged)
            self._staged = []
        await self.cleanup(session)
