"""``ralph loop --parallel N``: up to N ready issues at once, each in a session of its own.

The one-at-a-time loop's machinery, not a copy of it: the engine claims each issue (label
lock, issue lock, ``pre_step`` hook), runs its attempts, checks and signals
(:meth:`Engine.work`), and the loop keeps its hooks and summary. What differs is where the
agent works and how its work arrives:

- each claimed issue gets a session (:mod:`wrapix_core.sessions`): branch ``wrapix/NAME``
  in a repository of its own, from the label's branch — the branch checked out in the
  workspace when the loop starts — so N agents never share a work tree, and the host's git
  never runs in one an agent writes;
- a finished issue (``WORK_COMPLETE``, checks passed) lands on the label's branch through
  one merge queue (:mod:`.mergequeue`), one merge at a time, before it is closed: issues
  that depend on it become ready only once its work is on the branch the next sessions
  start from. Its session is then dropped;
- a conflict (or uncommitted work left in the session) puts the issue back open with the
  files and where the work is kept in its notes; the session stays, nothing is lost. This
  loop does not take it again (the next loop will, from the new branch tip);
- an issue that failed or asked keeps its session when the agent left work in it (said),
  and loses it otherwise.

Its running steps (issue, session, sandbox, started, running / queued / landing /
conflict) are in a file of Ralph's directory while it runs (:mod:`.runsteps`), which the
TUI board follows, whichever terminal started the loop.

No new issue is claimed once one failure ends the loop (``ralph.pause_on_failure``, or a
failure retrying cannot fix); the running ones finish.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

from wrapix_core.errors import WrapixError
from wrapix_core.ralph.agent import HostRunner, Runner, SandboxRunner, Session, agent_command
from wrapix_core.ralph.engine import Claim, Engine, log_name
from wrapix_core.ralph.events import LoopResult, Note, StepEnded, StepOutcome, StepResult
from wrapix_core.ralph.mergequeue import MergeQueue
from wrapix_core.ralph.runsteps import RunRecorder
from wrapix_core.ralph.state import LabelState, mutate
from wrapix_core.sessions.model import Session as WorkSession
from wrapix_core.sessions.model import Strategy
from wrapix_core.tasks.model import Issue

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class ParallelError(WrapixError):
    """The parallel loop cannot start; nothing was claimed."""


def label_branch(workspace: Path) -> str:
    """The branch checked out in ``workspace``: finished issues land there."""
    from wrapix_core.sessions import gitcmd

    done = gitcmd.project(workspace, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    branch = done.stdout.strip()
    if done.returncode != 0 or not branch:
        raise ParallelError(
            f"ralph loop --parallel lands each finished issue on the branch checked out in "
            f"{workspace}, and there is none (not a git repository, or a detached HEAD)",
            "check out the branch the label's work should land on")
    return branch


def session_name(issue_id: str, taken: set[str]) -> str:
    """``ralph-<issue>`` as a session name, made unique among ``taken``."""
    stem = _UNSAFE.sub("-", f"ralph-{issue_id}".lower()).strip("-_")[:34] or "ralph"
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}"
    return name


class ParallelLoop:
    """Runs one ``ralph loop --parallel`` (see the module docs)."""

    def __init__(self, engine: Engine, parallel: int, *, strategy: Strategy = "merge") -> None:
        if parallel < 1:
            raise ParallelError(f"--parallel {parallel}: at least one issue at a time")
        self.engine = engine
        self.parallel = parallel
        self.queue = MergeQueue(engine.paths, strategy)
        self.branch = ""
        self.not_landed: set[str] = set()
        """Issues whose work was refused by the merge queue (back open, session kept)."""
        self.record: RunRecorder | None = None
        """The running steps' file, while the loop runs."""

    def _mark(self, issue_id: str, state: str | None, **names: str) -> None:
        """The running steps' file: ``issue_id`` now in ``state`` (None: ended)."""
        if self.record is None:
            return
        if state is None:
            self.record.drop(issue_id)
        else:
            self.record.set(issue_id, state, **names)

    # -- sessions --------------------------------------------------------------------------
    def _new_session(self, issue: Issue) -> WorkSession:
        from wrapix_core.sessions import store
        from wrapix_core.sessions.create import create_session

        project = store.project_root(self.engine.workspace)
        taken = {session.name for session in store.list_sessions(project)}
        session, notes = create_session(
            project, session_name(issue.id, taken), from_ref=self.branch,
            copy=self.engine.settings.session.copy_paths)
        for note in notes:
            self.engine.emit(Note(f"{issue.id}: {note}"))
        return session

    def _runner(self, session: WorkSession) -> Runner:
        engine = self.engine
        agent = agent_command(engine.ralph)
        if engine.ralph.host:
            return HostRunner(session.path, agent)
        from wrapix_core.sandbox.model import SessionMount
        from wrapix_core.settings import command_argv

        setup = tuple(tuple(command_argv(item)) for item in engine.settings.session.setup)
        return SandboxRunner(session.path, engine.settings, engine.ralph, agent,
                             engine.paths.in_workspace(engine.paths.root),
                             on_note=lambda message: engine.emit(Note(message)),
                             session=SessionMount(session.name, session.project,
                                                  session.objects, setup))

    async def _record_sandbox(self, name: str, claim: Claim, runner: Runner) -> str:
        """The running step names the session's sandbox (the claim named the workspace's);
        returns its name ("" on the host)."""
        if not isinstance(runner, SandboxRunner):
            return ""
        container = runner.container(Session("step", "", claim.log,
                                             f"ralph-{claim.issue.id}"))

        def change(state: LabelState) -> None:
            step = state.running.get(claim.issue.id)
            if step is not None:
                state.running[claim.issue.id] = replace(step, sandbox=container)
        await mutate(self.engine.paths, name, change)
        return container

    async def _tidy(self, issue_id: str, session: WorkSession) -> None:
        """After a step that did not land: keep the session if it holds work, else drop it."""
        from wrapix_core.sessions.discard import discard_session, unlanded

        try:
            lost = await asyncio.to_thread(unlanded, session)
            if lost:
                self.engine.emit(Note(f"{issue_id}: its session {session.name} keeps "
                                      f"{'; '.join(lost)} (`wrapix diff {session.name}`)"))
                return
            await asyncio.to_thread(discard_session, session)
        except WrapixError as error:
            self.engine.emit(Note(f"{issue_id}: session {session.name}: {error}", "warning"))

    # -- one issue --------------------------------------------------------------------------
    async def _slot(self, name: str, claim: Claim) -> StepResult:
        engine = self.engine
        issue_id = claim.issue.id
        self._mark(issue_id, "running")
        making = asyncio.ensure_future(asyncio.to_thread(self._new_session, claim.issue))
        try:
            session = await asyncio.shield(making)
            runner = self._runner(session)
            sandbox = await self._record_sandbox(name, claim, runner)
        except WrapixError as error:
            self._mark(issue_id, None)
            result = await engine.give_back(name, claim, f"its session could not be made: "
                                                         f"{error}")
            engine.emit(StepEnded(result))
            return result
        except asyncio.CancelledError:  # stopped before its agent started
            await asyncio.shield(self._stopped_early(name, claim, making))
            raise
        landed = False

        async def land(issue: Issue) -> str | None:
            nonlocal landed
            self._mark(issue.id, "queued")
            landing = await self.queue.land(session, lambda: self._mark(issue.id, "landing"))
            if landing.merged is None:
                self.not_landed.add(issue.id)
                self._mark(issue.id, "conflict")
                return landing.reason()
            landed = True
            merged = landing.merged
            engine.emit(Note(f"{issue.id}: landed on {merged.base_ref} "
                             f"({merged.old[:12]}..{merged.new[:12]}, "
                             f"{merged.commits} commit(s))"))
            return None

        self._mark(issue_id, "running", session=session.name, sandbox=sandbox)
        result = await engine.work(name, claim, runner, land)
        if issue_id not in self.not_landed:  # a conflict stays listed until the loop ends
            self._mark(issue_id, None)
        if landed:
            await self._drop(claim.issue.id, session)
        elif claim.issue.id not in self.not_landed:
            await self._tidy(claim.issue.id, session)
        engine.emit(StepEnded(result))
        await engine.post_step(name, result)
        return result

    async def _stopped_early(self, name: str, claim: Claim,
                             making: asyncio.Future[WorkSession]) -> None:
        """The issue back open, its claim released; the session being made (in a thread,
        which a stop cannot interrupt) dropped once made, unless it holds work."""
        await self.engine.put_back(name, claim)
        try:
            session = await making
        except WrapixError:
            return
        await self._tidy(claim.issue.id, session)

    async def _drop(self, issue_id: str, session: WorkSession) -> None:
        from wrapix_core.sessions.discard import discard_session

        try:
            await asyncio.to_thread(discard_session, session)
        except WrapixError as error:
            self.engine.emit(Note(f"{issue_id}: landed, but its session {session.name} "
                                  f"could not be removed: {error}", "warning"))

    # -- the loop ---------------------------------------------------------------------------
    async def run(self, label: str | None = None, *, max_steps: int | None = None
                  ) -> LoopResult:
        engine = self.engine
        name = engine.label(label)
        state = engine.state(name)
        engine.check_credentials()
        self.branch = label_branch(engine.workspace)
        engine.skip_reasons = {}
        loop_log = engine.paths.logs / log_name(f"loop-{name}")
        refused = await engine.pre_loop(name, loop_log)
        if refused is not None:
            return refused
        await engine.recover(name)
        record = self.record = RunRecorder(engine.paths, name, self.parallel)
        record.start()
        skipped: set[str] = set()
        steps: list[StepResult] = []
        running: dict[asyncio.Task[StepResult], str] = {}
        final: StepResult | None = None
        started = 0
        stopping = False
        try:
            while True:
                idle: StepResult | None = None
                while (not stopping and len(running) < self.parallel
                       and (max_steps is None or started < max_steps)):
                    claimed = await engine.claim_next(name, state, skipped,
                                                      number=started + 1)
                    if isinstance(claimed, StepResult):
                        idle = claimed
                        break
                    started += 1
                    task = asyncio.create_task(self._slot(name, claimed))
                    running[task] = claimed.issue.id
                if not running:
                    if idle is not None and final is None:
                        engine.emit(StepEnded(idle))
                        steps.append(idle)
                        final = idle
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    issue_id = running.pop(task)
                    result = task.result()
                    steps.append(result)
                    if result.outcome != StepOutcome.FAILED:
                        continue
                    if issue_id in self.not_landed:  # open again: not again in this loop
                        skipped.add(issue_id)
                        engine.skip_reasons.setdefault(issue_id, "its work was not landed "
                                                                 "(see its notes)")
                    if result.fatal or engine.ralph.pause_on_failure:
                        stopping = True
                        final = final or result
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            record.end()
            self.record = None
        return await engine.end_loop(name, steps, final, loop_log)


async def run_parallel(engine: Engine, parallel: int, label: str | None, confirm: bool,
                       then_check: bool, max_steps: int | None) -> LoopResult:
    """``ralph loop --parallel N`` from the command line (its other options checked)."""
    if confirm or then_check:
        raise ParallelError("--parallel works several issues at once, so it cannot ask "
                            "before each step (--confirm) nor check in between (--check)",
                            "drop --confirm/--check, or --parallel")
    return await ParallelLoop(engine, parallel).run(label, max_steps=max_steps)
