"""The Ralph engine: ``plan``, ``ready``, ``step`` and ``loop`` for one workspace.

The CLI and the TUI drive the same :class:`Engine`. It reports through one event
callback (:mod:`wrapix_core.ralph.events`) and asks before each step through an
awaitable ``approve(step) -> approve | skip | stop | approve-all`` callback when given.

A step, in order:

1. recover steps that died (their issue lock is free but their issue is still
   ``in_progress``: reopened with a note);
2. pick the label's first ready issue (epics are never worked; skipped ones are passed);
3. ask ``approve`` when given;
4. claim it under the label's lock — re-check it is still ready, record the running step,
   mark it ``in_progress``, hold its issue lock — so two loops, in one process or two,
   never take the same issue;
5. run the ``pre_step`` hook (``ralph.hooks``); when it fails the issue is put back with
   its output in the notes and skipped (the next ready one is taken);
6. run the agent (fresh sandbox or host) with the step prompt; up to ``retries`` more
   attempts when it is blocked, gives no signal, fails, or a ``ralph.check`` command
   fails after its ``WORK_COMPLETE``, each with the previous failure in the prompt. A
   failure retrying cannot fix (the agent is not logged in, cannot start) is not
   retried: the issue is put back as it was and the loop ends;
7. complete → close (and close the epic whose last child this was); clarify → reopen with
   ``ralph:clarify`` and the question in the notes, notify; out of attempts → reopen with
   ``ralph:clarify`` and the reason. Ctrl-C reopens the issue with a note; a crash leaves
   the running step recorded, and the next step (or ``ralph status``) sees it;
8. the ``post_step`` hook (after a failure only with ``ralph.hooks_on_failure``).

``ralph loop --parallel N`` (:mod:`wrapix_core.ralph.parallel`) drives the same claim,
work and hooks, each issue in a session of its own, landing through a merge queue.

Before the first step the agent's credentials are checked
(:mod:`wrapix_core.ralph.credentials`): none is one clear error, no issue touched.

A loop goes on past a failed issue (parked) to the next ready one unless
``ralph.pause_on_failure``; it runs ``pre_loop``/``post_loop`` hooks around itself and
ends with a summary (done, parked, asked, skipped) and exit code 1 when anything failed.
Hooks run on this machine, in the workspace, never through a shell, each with
``ralph.hook_timeout``; their environment is described in :class:`RalphHooks`.

Settings files in the workspace (``wrapix.toml``, Ralph's ``config.toml``) choose what
runs on this machine, and the agent writes in the workspace. The sandbox mounts them
read-only, but one that did not exist yet could be created: when either changed during
an agent session, that session counts as failed (its issue parked, the loop ended), so
nothing an agent wrote is trusted without a person looking at it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import proc, workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.ralph import clarify, credentials, history, templates
from wrapix_core.ralph.agent import (
    CommandResult,
    HostRunner,
    LineCallback,
    Runner,
    SandboxRunner,
    Session,
    agent_command,
    remove_sandbox,
    stream_command,
)
from wrapix_core.ralph.errors import NotStarted
from wrapix_core.ralph.events import (
    EXIT_DONE,
    EXIT_FAILED,
    AgentLine,
    ApproveCallback,
    AttemptFailed,
    CheckLoopEnded,
    CheckLoopResult,
    CommandEnded,
    CommandLine,
    CommandStarted,
    Decision,
    EngineEvent,
    EventCallback,
    IssueRef,
    LoopEnded,
    LoopResult,
    Note,
    PhaseEnded,
    PhaseResult,
    PhaseStarted,
    StepEnded,
    StepOutcome,
    StepProposal,
    StepResult,
    StepStarted,
)
from wrapix_core.ralph.lock import RalphLock, holding, is_held
from wrapix_core.ralph.scope import LabelScope, issue_label
from wrapix_core.ralph.signals import find_line_signal, readable, strip_terminal
from wrapix_core.ralph.state import (
    LabelState,
    RalphPaths,
    RunningStep,
    mutate,
    ralph_paths,
    ralph_settings,
    read_label_state,
    resolve_label,
    write_label_state,
)
from wrapix_core.settings import (
    PROJECT_FILE,
    RalphSettings,
    Settings,
    command_argv,
    load_settings,
)
from wrapix_core.specs.index import INDEX_FILE
from wrapix_core.specs.parser import read_spec
from wrapix_core.tasks import timestamps
from wrapix_core.tasks.model import CLARIFY_LABEL, PARENT_CHILD, PROPOSED_LABEL, Issue
from wrapix_core.tasks.readiness import compute_readiness
from wrapix_core.tasks.store import IssueNotFound, IssueUpdate, TaskStore, open_store
from wrapix_core.units import plural

LOCK_TIMEOUT = 60.0
PROFILE_PREFIX = "profile:"
LandCallback = Callable[[Issue], Awaitable[str | None]]
"""Takes a finished issue's work where it belongs (``ralph loop --parallel``: its
session's branch onto the label's branch); a reason when it could not."""


def issue_profile(issue: Issue) -> str | None:
    """The sandbox profile an issue asks for with a ``profile:NAME`` label, or None."""
    for name in issue.labels:
        if name.startswith(PROFILE_PREFIX) and name[len(PROFILE_PREFIX):].strip():
            return name[len(PROFILE_PREFIX):].strip()
    return None


def log_name(stem: str) -> str:
    """``<stem>-<UTC time>.log``; the time sorts, and has milliseconds for uniqueness."""
    now = time.time()
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}" \
           f"{int(now * 1000) % 1000:03d}.log"


@dataclass
class Claim:
    """An issue a step holds: marked in progress, its lock held, its log chosen."""

    issue: Issue
    lock: RalphLock
    log: Path


class Engine:
    """Ralph for one workspace. Create one per CLI command or TUI worker."""

    def __init__(self, workspace: Path, *, settings: Settings | None = None,
                 store: TaskStore | None = None, on_event: EventCallback | None = None,
                 host: bool | None = None, paths: RalphPaths | None = None,
                 runner: Runner | None = None) -> None:
        self.workspace = workspace.resolve()
        self.paths = paths or ralph_paths(self.workspace)
        self._settings_files = self._settings_state()  # before reading them
        self.settings = settings or load_settings(self.workspace)
        ralph = ralph_settings(self.settings, self.paths)
        self.ralph: RalphSettings = ralph if host is None else \
            ralph.model_copy(update={"host": host})
        self.store = store or open_store(self.workspace)
        self.on_event: EventCallback = on_event or (lambda _event: None)
        self._runner = runner
        self._credentials_ok = runner is not None  # a caller's runner knows its agent
        self.skip_reasons: dict[str, str] = {}
        """Why issues were passed over in this loop (id → reason), in order."""

    # -- basics -------------------------------------------------------------------------
    def emit(self, event: EngineEvent) -> None:
        self.on_event(event)

    def runner(self) -> Runner:
        if self._runner is None:
            agent = agent_command(self.ralph)
            if self.ralph.host:
                self._runner = HostRunner(self.workspace, agent)
            else:
                self._runner = SandboxRunner(
                    self.workspace, self.settings, self.ralph, agent,
                    self.paths.in_workspace(self.paths.root),
                    on_note=lambda message: self.emit(Note(message)))
        return self._runner

    @property
    def task_command(self) -> str:
        """How prompts tell the agent to reach the issues."""
        return "bd" if self.store.kind == "bd" else "wrapix tasks"

    def label(self, label: str | None = None) -> str:
        return resolve_label(self.paths, label)

    def state(self, label: str) -> LabelState:
        if not self.paths.exists:
            raise NotStarted(f"Ralph has not been started in {self.workspace}",
                             "run `ralph start LABEL` first")
        return read_label_state(self.paths, label)

    async def scope(self, label: str, state: LabelState | None = None) -> LabelScope:
        epic = (state or self.state(label)).epic
        return LabelScope.build(await self.store.list_issues(), label, epic)

    def _values(self, state: LabelState) -> dict[str, str]:
        spec_path = self.workspace / state.spec
        title = state.spec_name
        if spec_path.is_file():
            title = read_spec(spec_path, self.workspace).title or title
        readme = spec_path.parent / INDEX_FILE
        pinned = (f"Read `{self.paths.in_workspace(readme)}` first: the project's spec index "
                  "and terminology.") if readme.is_file() else ""
        return {"LABEL": state.label, "SPEC_NAME": state.spec_name, "SPEC_PATH": state.spec,
                "SPEC_TITLE": " ".join(title.split()), "PINNED_CONTEXT": pinned,
                "TASKS": self.task_command}

    def _session(self, phase: str, prompt: str, log: Path, name: str,
                 args: tuple[str, ...], profile: str | None = None) -> Session:
        """A session of ``phase``, with the phase's agent (``ralph.agents.PHASE``)."""
        return Session(phase, prompt, log, name, args, timeout=self.ralph.step_timeout,
                       watchdog=self.ralph.watchdog,
                       agent=tuple(agent_command(self.ralph, phase=phase)), profile=profile,
                       anchor=self.paths.anchor)

    async def _record_log(self, name: str, log: Path) -> None:
        """Remember the label's latest session log (``ralph status --all``)."""
        await mutate(self.paths, name, _session_ran(None, self.paths.in_workspace(log)))

    def _settings_state(self) -> dict[Path, tuple[int, int, int] | None]:
        """The settings files the agent could write: (inode, size, mtime) or None."""
        found: dict[Path, tuple[int, int, int] | None] = {}
        for path in (self.workspace / PROJECT_FILE, self.paths.config):
            try:
                info = path.lstat()
            except OSError:
                found[path] = None
                continue
            found[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
        return found

    def _settings_changed(self) -> str | None:
        """Why the settings files in the workspace can no longer be trusted (they changed
        since this engine read them), or None."""
        changed = [path for path, state in self._settings_state().items()
                   if self._settings_files.get(path) != state]
        if not changed:
            return None
        names = " and ".join(self.paths.in_workspace(path) for path in changed)
        return (f"{names} changed during the agent's session; wrapix reads "
                f"{'these files' if len(changed) > 1 else 'this file'} on this machine, so "
                "check what is in it (an agent may have written it) before running wrapix "
                "or Ralph again")

    def _line_sink(self, issue_id: str | None) -> LineCallback:
        def sink(line: str) -> None:
            self.emit(AgentLine(issue_id, line, tuple(readable(line))))
        return sink

    def check_credentials(self) -> None:
        """Raise the credentials error when the agent cannot log in where it runs."""
        if self._credentials_ok:
            return
        error = credentials.problem(agent_command(self.ralph), self.ralph, self.settings,
                                    self.workspace)
        if error is not None:
            raise error
        self._credentials_ok = True

    def _command_sink(self, kind: str, name: str) -> LineCallback:
        def sink(line: str) -> None:
            self.emit(CommandLine(kind, name, line))
        return sink

    async def _hook(self, hook: str, log: Path, values: dict[str, str]) -> CommandResult | None:
        """Run the ``ralph.hooks`` command ``hook`` (None when it is not set)."""
        argv = getattr(self.ralph.hooks, hook)
        if not argv:
            return None
        env = {"RALPH_HOOK": hook, "RALPH_WORKSPACE": str(self.workspace), "RALPH_LOG": str(log),
               **{key: value.replace("\0", "") for key, value in values.items()}}
        issue = values.get("RALPH_ISSUE") or None
        shown = proc.describe(argv)
        with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
            handle.write(f"[ralph] hook {hook}: {shown}\n")
        self.emit(CommandStarted("hook", hook, issue, "host"))
        result = await stream_command(list(argv), log, self._command_sink("hook", hook),
                                      timeout=self.ralph.hook_timeout, prefix=f"[{hook}] ",
                                      env=env, cwd=self.workspace, anchor=self.paths.anchor)
        detail = result.detail(self.ralph.hook_timeout)
        with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
            handle.write(f"[ralph] hook {hook}: {detail}\n")
        self.emit(CommandEnded("hook", hook, issue, result.ok, detail, result.elapsed))
        if not result.ok:
            self.emit(Note(f"the {hook} hook `{shown}` failed ({detail})", "warning"))
        return result

    def _step_values(self, name: str, issue: Issue | IssueRef, outcome: str = "",
                     reason: str = "", attempts: int = 0) -> dict[str, str]:
        return {"RALPH_LABEL": name, "RALPH_ISSUE": issue.id,
                "RALPH_ISSUE_TITLE": " ".join(issue.title.split()), "RALPH_OUTCOME": outcome,
                "RALPH_REASON": reason, "RALPH_ATTEMPTS": str(attempts)}

    async def _pre_step(self, name: str, claim: Claim) -> str | None:
        """The ``pre_step`` hook; when it fails, the issue is put back with its output in
        the notes and the reason returned."""
        try:
            result = await self._hook("pre_step", claim.log,
                                      self._step_values(name, claim.issue, "pending"))
        except BaseException:  # Ctrl-C during the hook: the issue goes back as it was
            await asyncio.shield(self._interrupted(claim.issue.id, claim.log))
            await self._release(name, claim)
            raise
        if result is None or result.ok:
            return None
        detail = result.detail(self.ralph.hook_timeout)
        tail = _tail_text(result.tail)
        reason = f"the pre_step hook failed ({detail})"
        try:
            await self.store.update(claim.issue.id, IssueUpdate(
                status="open", append_notes=f"Ralph ({timestamps.now()}): {reason}; the issue "
                f"was skipped." + (f" Its output ended with:\n{tail}" if tail else "")
                + f"\nLog: {self.paths.in_workspace(claim.log)}"))
        finally:
            await self._release(name, claim)
        return reason

    async def post_step(self, name: str, result: StepResult) -> None:
        if result.issue is None or result.outcome not in (
                StepOutcome.COMPLETED, StepOutcome.CLARIFY, StepOutcome.FAILED):
            return
        if result.outcome == StepOutcome.FAILED and not self.ralph.hooks_on_failure:
            return
        log = result.log or self.paths.logs / log_name(result.issue.id)
        await self._hook("post_step", log, self._step_values(
            name, result.issue, str(result.outcome), result.reason, result.attempts))

    async def _record_agent_error(self, name: str, message: str, log: Path | None) -> None:
        """What the agent said when it could not work, for ``ralph status`` and the TUI
        (cleared by the next completed step)."""
        def record(state: LabelState) -> None:
            if message:
                state.extra["agent_error"] = {
                    "at": timestamps.now(), "message": message,
                    "log": self.paths.in_workspace(log) if log is not None else ""}
            else:
                state.extra.pop("agent_error", None)
        with contextlib.suppress(WrapixError, OSError):
            await mutate(self.paths, name, record)

    # -- plan -----------------------------------------------------------------------------
    async def plan(self, label: str | None = None) -> PhaseResult:
        """The interactive spec interview on this terminal (logged)."""
        from wrapix_core.ralph import terminal

        name = self.label(label)
        state = self.state(name)
        prompt = templates.render(templates.load(self.paths, "plan"), self._values(state))
        log = self.paths.logs / log_name("plan")
        session = self._session("plan", prompt, log, f"ralph-plan-{name}", (name,))
        runner = self.runner()
        argv, env = await runner.interactive(session)
        try:
            self.emit(PhaseStarted("plan", name, log, time.time(), runner.describe(session)))
            code = terminal.run_logged(argv, log=log, timeout=self.ralph.step_timeout,
                                       env=env, cwd=self.workspace, anchor=self.paths.anchor)
        finally:
            await runner.interactive_done(session)
        await mutate(self.paths, name, _session_ran("plan", self.paths.in_workspace(log)))
        transcript = strip_terminal(self.paths.read_text(log, errors="replace"))
        said = find_line_signal(transcript, "INTERVIEW_COMPLETE")
        spec = self.workspace / state.spec
        tampered = self._settings_changed()
        if tampered:
            result = PhaseResult("plan", name, False, f"plan failed: {tampered}", log,
                                 reason=tampered)
        elif said and spec.is_file():
            result = PhaseResult("plan", name, True, f"interview complete: the spec is "
                                 f"{state.spec}", log)
        elif said:
            result = PhaseResult("plan", name, False, "the interview said it was complete "
                                 f"but {state.spec} does not exist", log,
                                 reason="no spec written")
        else:
            result = PhaseResult("plan", name, False, "the interview did not complete "
                                 f"(agent exit code {code}); continue it with `ralph plan`",
                                 log, reason="no INTERVIEW_COMPLETE")
        self.emit(PhaseEnded(result))
        return result

    # -- ready ----------------------------------------------------------------------------
    async def ready(self, label: str | None = None, *, review: bool | None = None
                    ) -> PhaseResult:
        """The agent turns the spec into an epic and issues labelled ``rl-LABEL``; with
        review (the default setting) they are created as proposed."""
        name = self.label(label)
        state = self.state(name)
        spec = self.workspace / state.spec
        if not spec.is_file():
            raise NotStarted(f"the spec {state.spec} does not exist",
                             "write it with `ralph plan` (or by hand) first")
        self.check_credentials()
        proposing = self.ralph.review if review is None else review
        before = await self.store.list_issues()
        known = {issue.id for issue in before}
        scope = LabelScope.build(before, name, state.epic)
        values = self._values(state)
        labels = [issue_label(name), *([PROPOSED_LABEL] if proposing else [])]
        values["ISSUE_LABELS"] = ",".join(labels)
        spec_text = history.read_workspace_text(self.workspace, spec)
        changes = "" if spec_text is None else self._spec_changes(name, state.spec, spec_text,
                                                                   scope)
        values["EXISTING_WORK"] = "\n\n".join(
            part for part in (self._existing_work(scope), changes) if part)
        prompt = templates.render(templates.load(self.paths, "ready"), values)
        log = self.paths.logs / log_name("ready")
        session = self._session("ready", prompt, log, f"ralph-ready-{name}", (name,))
        runner = self.runner()
        self.emit(PhaseStarted("ready", name, log, time.time(), runner.describe(session)))
        await self._record_log(name, log)
        outcome = await runner.run(session, self._line_sink(None))
        created, epic, outside, second = await self._adopt(name, state, known, proposing)
        base = await history.head_commit(self.workspace)
        await mutate(self.paths, name, lambda changed: _after_ready(changed, epic, base))
        failure = self._settings_changed() or outcome.failure()
        signal = outcome.signal
        if failure is None and signal is not None and signal.kind != "READY_COMPLETE":
            failure = (f"blocked: {signal.detail}" if signal.kind == "RALPH_BLOCKED"
                       else f"the agent answered {signal.kind}, not READY_COMPLETE")
        if second:
            extra = [issue_id for issue_id in second if issue_id not in created]
            failure = failure or (
                f"the agent created another epic for {name} ({', '.join(second[:3])}) "
                f"although {epic} is its epic; {len(extra)} issue(s) of it are held for "
                f"review (ralph:proposed), not counted under {epic}: reject or keep them "
                f"with `ralph review {name}`")
        elif failure is None and spec_text is not None:
            history.save_spec(self.paths, name, spec_text)
        waiting = len(created) if proposing else 0
        summary = plural(len(created), "new issue") + (
            f" under epic {epic}" if epic else "")
        if proposing and created:
            summary += f", proposed for review: `ralph review {name}`"
        if outside:
            summary += (f"; {len(outside)} new issue(s) are not part of {issue_label(name)} "
                        f"(no label, not under the epic): {', '.join(outside[:5])}")
        result = PhaseResult("ready", name, failure is None,
                             f"ready: {summary}" if failure is None
                             else f"ready did not complete: {failure}; {summary}",
                             log, reason=failure or "", created=tuple(created), epic=epic,
                             proposed=waiting)
        self.emit(PhaseEnded(result))
        return result

    def _existing_work(self, scope: LabelScope) -> str:
        work = scope.work()
        if not work and scope.epic is None:
            return ""
        open_count = len([issue for issue in work if not issue.is_closed])
        epic = f" under the epic {scope.epic}" if scope.epic else ""
        parent = f" `--parent {scope.epic}`" if scope.epic else ""
        return (f"This spec already has issues{epic}: {len(work)} in all, {open_count} open. "
                f"List them with `{self.task_command} list --label {issue_label(scope.label)} "
                f"--all` and create only what is missing (with{parent or ' the same labels'}); "
                "do not create a second epic.")

    def _spec_changes(self, name: str, spec: str, text: str, scope: LabelScope) -> str:
        """For a spec that already has issues: how it changed since the last ``ralph
        ready`` (a diff against the copy kept then), so only the new work is added."""
        if not scope.work():
            return ""
        diff = history.spec_diff(self.paths, name, spec, text)
        if diff is None:
            return ""
        if not diff:
            return (f"`{spec}` has not changed since the last `ralph ready`: add issues only "
                    "for work the existing ones miss.")
        return (f"`{spec}` changed since the last `ralph ready`. Add issues for what the "
                "change adds or alters (and note in existing open issues what it changes "
                "for them); do not re-plan the parts that did not change. The change:\n\n"
                f"```diff\n{diff.rstrip()}\n```")

    async def _adopt(self, name: str, state: LabelState, known: set[str], proposing: bool
                     ) -> tuple[list[str], str | None, list[str], list[str]]:
        """Label the issues the ready session created: ``rl-LABEL`` always, ``ralph:proposed``
        when they go to review. A second epic for the label (besides its epic, or the
        first of several new ones) is not the label's work: it and the issues under it
        are held as proposed, with a note, for a person to decide. Returns (created member
        ids, epic, new non-members, the second epics and their issues)."""
        issues = await self.store.list_issues()
        new = [issue for issue in issues if issue.id not in known]
        new_epics = [issue for issue in new if issue.issue_type == "epic"]
        epic = state.epic
        if epic is None:
            labelled = [issue for issue in new_epics if issue_label(name) in issue.labels]
            candidates = labelled or new_epics
            epic = candidates[0].id if candidates else None
        scope = LabelScope.build(issues, name, epic)
        members = set(scope.member_ids)
        others = [issue.id for issue in new_epics if issue.id != epic
                  and (issue.id in members or issue_label(name) in issue.labels)]
        held = set(others)
        for other in others:
            held.update(LabelScope.build(issues, f"{name}-second-epic", other).member_ids)
        when = timestamps.now()
        second = [issue for issue in new if issue.id in held]
        for issue in second:
            await self.store.update(issue.id, IssueUpdate(
                add_labels=tuple(label for label in (issue_label(name), PROPOSED_LABEL)
                                 if label not in issue.labels),
                append_notes=f"Held by ralph ready ({when}): part of a second epic for "
                             f"{name} (its epic is {epic}); review it: ralph review {name}"))
        created = [issue for issue in new if issue.id in members and issue.id not in held]
        for issue in created:
            add = tuple(label for label in (issue_label(name),
                                            *((PROPOSED_LABEL,) if proposing else ()))
                        if label not in issue.labels)
            note = (f"Proposed by ralph ready ({when}); awaiting review: ralph review {name}"
                    if proposing else f"Created by ralph ready ({when}).")
            await self.store.update(issue.id, IssueUpdate(add_labels=add, append_notes=note))
        outside = [issue.id for issue in new if issue.id not in members
                   and issue.id not in held]
        return ([issue.id for issue in created], epic, outside,
                [issue.id for issue in second])

    # -- recovery -------------------------------------------------------------------------
    async def recover(self, label: str) -> list[str]:
        """Reopen issues whose step died; returns what was done (also emitted as notes)."""
        done: list[str] = []
        async with holding(self.paths.label_lock(label), f"Ralph label '{label}'",
                           LOCK_TIMEOUT, anchor=self.paths.anchor):
            state = read_label_state(self.paths, label)
            dead = [run for run in state.running.values()
                    if not is_held(self.paths.issue_lock(run.issue))]
            if not dead:
                return done
            for run in dead:
                del state.running[run.issue]
                try:
                    issue = await self.store.show(run.issue)
                except IssueNotFound:
                    done.append(f"{run.issue}: its interrupted step was forgotten (the issue "
                                "no longer exists)")
                    continue
                if issue.status == "in_progress":
                    await self.store.update(run.issue, IssueUpdate(
                        status="open",
                        append_notes=f"Ralph ({timestamps.now()}): the step that started "
                                     f"{run.started_at} (pid {run.pid} on {run.host}) ended "
                                     f"without finishing; reopened. Log: {run.log}"))
                    done.append(f"{run.issue}: its step (pid {run.pid}) ended without "
                                "finishing; reopened")
                else:
                    done.append(f"{run.issue}: cleared the record of an interrupted step "
                                f"(the issue is {issue.status})")
                if run.sandbox:
                    await remove_sandbox(self.settings, run.sandbox, self.workspace)
            write_label_state(self.paths, state)
        for message in done:
            self.emit(Note(message, "warning"))
        return done

    # -- step -----------------------------------------------------------------------------
    async def step(self, label: str | None = None, *, approve: ApproveCallback | None = None,
                   skip: set[str] | None = None, number: int = 1) -> StepResult:
        """Work the label's next ready issue (see the module docs)."""
        name = self.label(label)
        state = self.state(name)
        self.check_credentials()
        await self.recover(name)
        skipped = skip if skip is not None else set()
        claimed = await self.claim_next(name, state, skipped, approve=approve, number=number)
        if isinstance(claimed, StepResult):
            self.emit(StepEnded(claimed))
            return claimed
        result = await self.work(name, claimed)
        self.emit(StepEnded(result))
        await self.post_step(name, result)
        return result

    async def claim_next(self, name: str, state: LabelState, skipped: set[str], *,
                         approve: ApproveCallback | None = None, number: int = 1
                         ) -> Claim | StepResult:
        """The label's first ready issue not in ``skipped``, asked about, claimed and past
        its ``pre_step`` hook; or why there is none (nothing ready, or stopped when asked).
        Issues skipped when asked, or whose hook failed, are added to ``skipped``."""
        while True:
            scope = await self.scope(name, state)
            await self._close_finished_epics(scope)
            candidates = scope.ready(skipped)
            if not candidates:
                return self._idle(scope, skipped)
            candidate = candidates[0]
            if approve is not None:
                decision = await approve(StepProposal(
                    name, IssueRef.of(candidate, scope.by_id), state.spec,
                    self._values(state)["SPEC_TITLE"], number, len(candidates)))
                if decision == Decision.SKIP:
                    skipped.add(candidate.id)
                    self.skip_reasons.setdefault(candidate.id, "skipped when asked")
                    continue
                if decision == Decision.STOP:
                    return StepResult(StepOutcome.STOPPED, name, "stopped before "
                                      f"{candidate.id}", IssueRef.of(candidate))
            claim = await self._claim(name, candidate.id)
            if claim is None:  # taken by another loop in the meantime
                continue
            hook_failed = await self._pre_step(name, claim)
            if hook_failed is not None:
                skipped.add(candidate.id)
                self.skip_reasons[candidate.id] = hook_failed
                continue
            return claim

    def _idle(self, scope: LabelScope, skipped: Collection[str]) -> StepResult:
        name = scope.label
        open_work = scope.open_work()
        if not open_work:
            total = len(scope.work())
            return StepResult(StepOutcome.NOTHING_LEFT, name,
                              f"nothing left: all {plural(total, 'issue')} of "
                              f"{issue_label(name)} are closed" if total else
                              f"nothing to do: no issues labelled {issue_label(name)}",
                              hint="" if total else f"create them with `ralph ready {name}`")
        passed = [issue for issue in scope.ready() if issue.id in skipped]
        if passed:
            why = "; ".join(f"{issue.id}: {self.skip_reasons[issue.id]}" for issue in passed[:5]
                            if issue.id in self.skip_reasons)
            return StepResult(StepOutcome.SKIPPED, name,
                              f"every ready issue was skipped in this loop "
                              f"({', '.join(issue.id for issue in passed[:5])})",
                              reason=why or "skipped")
        reason, hint = scope.why_stuck()
        return StepResult(StepOutcome.STUCK, name,
                          f"stuck: {len(open_work)} open, none ready: {reason}",
                          reason=reason, hint=hint)

    async def _claim(self, name: str, issue_id: str) -> Claim | None:
        base = None
        if "base_commit" not in read_label_state(self.paths, name).extra:
            base = await history.head_commit(self.workspace)  # before the first step
        async with holding(self.paths.label_lock(name), f"Ralph label '{name}'",
                           LOCK_TIMEOUT, anchor=self.paths.anchor):
            issues = await self.store.list_issues()
            if not compute_readiness(issues).is_ready(issue_id):
                return None
            lock = RalphLock(self.paths.issue_lock(issue_id), f"issue {issue_id}",
                             self.paths.anchor)
            if not lock.try_acquire():
                return None
            try:
                log = self.paths.logs / log_name(issue_id)
                sandbox = None
                runner = self.runner()
                if isinstance(runner, SandboxRunner):
                    sandbox = runner.container(Session("step", "", log, f"ralph-{issue_id}"))
                state = read_label_state(self.paths, name)
                state.running[issue_id] = RunningStep.now(
                    issue_id, self.paths.in_workspace(log), sandbox)
                state.count("step")
                state.extra["last_log"] = self.paths.in_workspace(log)
                if base and "base_commit" not in state.extra:
                    state.extra["base_commit"] = base
                write_label_state(self.paths, state)
                issue = await self.store.update(issue_id, IssueUpdate(status="in_progress"))
            except BaseException:
                lock.release()
                raise
            return Claim(issue, lock, log)

    async def work(self, name: str, claim: Claim, runner: Runner | None = None,
                    land: LandCallback | None = None) -> StepResult:
        """Run the claimed issue's attempts with ``runner`` (default: the engine's). With
        ``land``, a finished issue (WORK_COMPLETE, checks passed) is closed only once
        ``land`` has taken its work; a reason it returns puts the issue back instead."""
        issue, log = claim.issue, claim.log
        state = read_label_state(self.paths, name)
        values = self._values(state)
        attempts = 1 + self.ralph.retries
        template = templates.load(self.paths, "step")
        previous = ""
        started = time.time()
        runner = runner or self.runner()
        finished = False
        try:
            profile, unusable = self._profile_of(issue)
            if unusable:
                result = await self._give_up(name, issue, unusable, 0, log, started)
                finished = True
                return result
            for attempt in range(1, attempts + 1):
                prompt = templates.render(template, {
                    **values, "ISSUE_ID": issue.id, "TITLE": " ".join(issue.title.split()),
                    "DESCRIPTION": templates.cut_description(
                        issue.description, f"{self.task_command} show {issue.id}"),
                    "PRIORITY": f"P{issue.priority}",
                    "PREVIOUS_ATTEMPT": self._previous(previous, attempt, attempts, log)})
                session = self._session("step", prompt, log, f"ralph-{issue.id}",
                                        (name, issue.id), profile)
                with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
                    handle.write(f"[ralph] {issue.id} attempt {attempt} of {attempts} "
                                 f"({timestamps.now()}, {runner.describe(session)})\n")
                self.emit(StepStarted(name, IssueRef.of(issue), attempt, attempts, log,
                                      started, runner.describe(session)))
                outcome = await runner.run(session, self._line_sink(issue.id))
                tampered = self._settings_changed()
                if tampered:  # never retried: a person must look first
                    result = await self._give_up(name, issue, tampered, attempt, log,
                                                 started, fatal=True)
                    finished = True
                    return result
                fatal = outcome.fatal()
                if fatal:  # never retried: the next attempt would fail the same way
                    result = await self._not_run(name, issue, fatal, log, started)
                    finished = True
                    return result
                failure = outcome.failure()
                signal = outcome.signal
                if failure is None and signal is not None:
                    if signal.kind == "WORK_COMPLETE":
                        failure = await self._checks(name, issue, log, runner)
                        tampered = self._settings_changed()  # a check runs agent code
                        if tampered:
                            result = await self._give_up(name, issue, tampered, attempt,
                                                         log, started, fatal=True)
                            finished = True
                            return result
                    if signal.kind == "WORK_COMPLETE" and failure is None:
                        refused = await land(issue) if land is not None else None
                        if refused is not None:
                            result = await self._not_landed(name, issue, refused, attempt,
                                                            log, started)
                            finished = True
                            return result
                        result = await self._complete(name, state, issue, attempt, log,
                                                      started)
                        finished = True
                        return result
                    if signal.kind == "RALPH_CLARIFY":
                        result = await self._ask(name, issue, signal.detail, attempt, log,
                                                 started, runner.describe(session))
                        finished = True
                        return result
                    if failure is None:
                        failure = (f"blocked: {signal.detail}"
                                   if signal.kind == "RALPH_BLOCKED"
                                   else f"the agent answered {signal.kind}, not a step signal")
                reason = failure or "the agent gave no usable answer"
                with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
                    handle.write(f"[ralph] attempt {attempt} failed: {reason}\n")
                self.emit(AttemptFailed(issue.id, attempt, reason, log, attempt < attempts))
                previous = reason
            result = await self._give_up(name, issue, previous, attempts, log, started)
            finished = True
            return result
        finally:
            if not finished:
                await asyncio.shield(self._interrupted(issue.id, log))
            await self._release(name, claim)

    async def _checks(self, name: str, issue: Issue, log: Path, runner: Runner) -> str | None:
        """Run the ``ralph.check`` commands after WORK_COMPLETE; why the first failing one
        failed (its output's tail included), or None when all passed."""
        for command in self.ralph.check:
            argv = command_argv(command)
            shown = proc.describe(argv)
            session = Session("check", "", log, f"ralph-{issue.id}-check", (name, issue.id),
                              timeout=self.ralph.check_timeout, watchdog=self.ralph.watchdog)
            where = runner.describe(session)
            with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
                handle.write(f"[ralph] check {shown} ({where})\n")
            self.emit(CommandStarted("check", shown, issue.id, where))
            result = await runner.run_command(session, argv, self._command_sink("check", shown),
                                              self.ralph.check_timeout)
            detail = result.detail(self.ralph.check_timeout)
            with workspace_fs.open_append_text(self.paths.anchor, log) as handle:
                handle.write(f"[ralph] check {shown}: {detail}\n")
            self.emit(CommandEnded("check", shown, issue.id, result.ok, detail,
                                   result.elapsed))
            if not result.ok:
                tail = _tail_text(result.tail)
                return (f"the agent said WORK_COMPLETE but the check `{shown}` failed "
                        f"({detail})" + (f"; its output ended with:\n{tail}" if tail else ""))
        return None

    def _profile_of(self, issue: Issue) -> tuple[str | None, str]:
        """(the sandbox profile an issue's ``profile:NAME`` label picks, why it cannot be
        used or '')."""
        from wrapix_core.profiles import load_catalog

        profile = issue_profile(issue)
        if profile is None:
            return None, ""
        if self.ralph.host:
            self.emit(Note(f"{issue.id} asks for the profile '{profile}'; agents run on the "
                           "host (--host), so it does not apply", "warning"))
            return None, ""
        try:
            load_catalog(self.workspace).get(profile)
        except WrapixError as exc:
            return None, (f"its label {PROFILE_PREFIX}{profile} names a profile that cannot "
                          f"be used: {exc} — fix the label or define the profile")
        return profile, ""

    def _previous(self, reason: str, attempt: int, attempts: int, log: Path) -> str:
        if not reason:
            return ""
        return (f"## Previous attempt\n\nThis is attempt {attempt} of {attempts}. The previous "
                f"attempt failed: {reason}\nIts output is in `{self.paths.in_workspace(log)}`. "
                "Avoid what went wrong; if the cause is outside this issue, say so with "
                "RALPH_BLOCKED.")

    async def _complete(self, name: str, state: LabelState, issue: Issue, attempt: int,
                        log: Path, started: float) -> StepResult:
        current = await self.store.show(issue.id)
        if not current.is_closed:
            current = await self.store.close(issue.id, "WORK_COMPLETE (ralph step)")
        scope = await self.scope(name, state)
        closed_epics = await self._close_finished_epics(scope)
        if "agent_error" in read_label_state(self.paths, name).extra:
            await self._record_agent_error(name, "", None)
        extra = f"; closed epic {', '.join(closed_epics)}" if closed_epics else ""
        if scope.work() and not scope.open_work():
            self._spec_done(state)
        return StepResult(StepOutcome.COMPLETED, name, f"{issue.id} done{extra}",
                          IssueRef.of(current), attempt, logs=(log,),
                          elapsed=time.time() - started)

    async def _ask(self, name: str, issue: Issue, question: str, attempt: int, log: Path,
                   started: float, where: str) -> StepResult:
        updated = await self.store.update(issue.id, IssueUpdate(
            status="open", add_labels=(CLARIFY_LABEL,),
            append_notes=clarify.question_note(question, self.paths.in_workspace(log))))
        sandbox = where.removeprefix("sandbox ") if where.startswith("sandbox ") else "ralph"
        await clarify.notify(f"Ralph: {issue.id} has a question",
                             f"{issue.title}: {question}", sandbox=sandbox)
        return StepResult(StepOutcome.CLARIFY, name, f"{issue.id} asks: {question}",
                          IssueRef.of(updated), attempt, reason=question, logs=(log,),
                          elapsed=time.time() - started,
                          hint=f"answer with `ralph msg -i {issue.id} -a ANSWER`")

    async def _give_up(self, name: str, issue: Issue, reason: str, attempts: int, log: Path,
                       started: float, *, fatal: bool = False) -> StepResult:
        tried = (f"after {plural(attempts, 'attempt')}" if attempts
                 else "before starting the agent")
        note = (f"Ralph gave up ({timestamps.now()}) {tried}: {reason}. Log: "
                f"{self.paths.in_workspace(log)}")
        updated = await self.store.update(issue.id, IssueUpdate(
            status="open", add_labels=(CLARIFY_LABEL,), append_notes=note))
        await clarify.notify(f"Ralph: {issue.id} failed", f"{issue.title}: {reason}")
        return StepResult(StepOutcome.FAILED, name, f"{issue.id} failed {tried}: {reason}",
                          IssueRef.of(updated), attempts, reason=reason, logs=(log,),
                          elapsed=time.time() - started, fatal=fatal,
                          hint=f"read `ralph logs {issue.id}`, then answer with `ralph msg -i "
                               f"{issue.id} -a HINT` (or fix it yourself and close it)")

    async def _not_run(self, name: str, issue: Issue, error: str, log: Path,
                       started: float) -> StepResult:
        """The agent could not be started, or cannot work (not logged in): not the issue's
        fault, so it goes back to open as it was (no question, no attempt counted against
        it), and what the agent said is kept for ``ralph status``."""
        updated = await self.store.update(issue.id, IssueUpdate(
            status="open", append_notes=f"Ralph ({timestamps.now()}): {error}; the issue was "
                                        "put back."))
        await self._record_agent_error(name, error, log)
        return StepResult(StepOutcome.FAILED, name, f"{issue.id} was not worked: {error}",
                          IssueRef.of(updated), 0, reason=error, logs=(log,),
                          elapsed=time.time() - started, fatal=True,
                          hint="fix what stops the agent from working (see its log), then "
                               "run the step again")

    async def _not_landed(self, name: str, issue: Issue, reason: str, attempt: int,
                          log: Path, started: float) -> StepResult:
        """Finished, but its work could not be landed (a conflict): the issue is put back
        open with the reason (the files, where the work is kept) in its notes."""
        updated = await self.store.update(issue.id, IssueUpdate(
            status="open", append_notes=f"Ralph ({timestamps.now()}): the work is done but "
            f"was not landed: {reason}\nLog: {self.paths.in_workspace(log)}"))
        return StepResult(StepOutcome.FAILED, name, f"{issue.id} was not landed: {reason}",
                          IssueRef.of(updated), attempt, reason=reason, logs=(log,),
                          elapsed=time.time() - started,
                          hint="resolve it as its notes say, or run it again: it is open")

    async def _interrupted(self, issue_id: str, log: Path) -> None:
        """Ctrl-C or cancellation mid-step: put the issue back (best effort)."""
        with contextlib.suppress(WrapixError, OSError):
            current = await self.store.show(issue_id)
            if current.status == "in_progress":
                await self.store.update(issue_id, IssueUpdate(
                    status="open", append_notes=f"Ralph ({timestamps.now()}): the step was "
                    f"interrupted; reopened. Log: {self.paths.in_workspace(log)}"))

    async def give_back(self, name: str, claim: Claim, error: str) -> StepResult:
        """A claimed issue that could not be worked (not its fault): put back open as it
        was, with ``error`` in its notes; the claim is released."""
        try:
            return await self._not_run(name, claim.issue, error, claim.log, time.time())
        finally:
            await self._release(name, claim)

    async def put_back(self, name: str, claim: Claim) -> None:
        """A claimed issue whose step was stopped before its agent started: open again as
        a stopped step leaves it, the claim released."""
        try:
            await self._interrupted(claim.issue.id, claim.log)
        finally:
            await self._release(name, claim)

    async def _release(self, name: str, claim: Claim) -> None:
        try:
            with contextlib.suppress(WrapixError, OSError):
                await asyncio.shield(mutate(self.paths, name,
                                            lambda state: state.running.pop(claim.issue.id,
                                                                            None)))
        finally:
            claim.lock.release()

    def _spec_done(self, state: LabelState) -> None:
        """The label's last issue closed: its spec's row in ``specs/README.md`` is marked
        done (or a note says why not)."""
        from wrapix_core.ralph.start import mark_spec_done

        try:
            said = mark_spec_done(self.workspace, state.spec_name)
        except OSError as exc:
            said = f"specs/README.md was not marked done: {exc.strerror or exc}"
        if "already marked done" not in said:
            self.emit(Note(said, "info" if said.startswith("marked") else "warning"))

    async def _close_finished_epics(self, scope: LabelScope) -> list[str]:
        closed: list[str] = []
        for epic in scope.finished_epics():
            await self.store.close(epic.id, "all its issues are closed (ralph)")
            closed.append(epic.id)
            self.emit(Note(f"closed epic {epic.id}: all its issues are closed"))
        return closed

    # -- loop -----------------------------------------------------------------------------
    async def loop(self, label: str | None = None, *, approve: ApproveCallback | None = None,
                   max_steps: int | None = None) -> LoopResult:
        """Steps until nothing is left (100), stuck (101), a stop, ``max_steps`` worked
        issues, or a failure retrying cannot fix; a failed issue is parked and the loop
        goes on (it stops there with ``ralph.pause_on_failure``). Exit 1 when anything
        failed. Skipped issues are not offered again in this loop."""
        name = self.label(label)
        self.state(name)
        self.check_credentials()
        skipped: set[str] = set()
        self.skip_reasons = {}
        steps: list[StepResult] = []
        approve_all = False
        loop_log = self.paths.logs / log_name(f"loop-{name}")

        async def gate(proposal: StepProposal) -> Decision:
            nonlocal approve_all
            if approve_all:
                return Decision.APPROVE
            assert approve is not None
            decision = await approve(proposal)
            if decision == Decision.APPROVE_ALL:
                approve_all = True
            return decision

        refused = await self.pre_loop(name, loop_log)
        if refused is not None:
            return refused
        worked = 0
        final: StepResult | None = None
        while max_steps is None or worked < max_steps:
            result = await self.step(name, approve=gate if approve is not None else None,
                                     skip=skipped, number=worked + 1)
            steps.append(result)
            if result.attempts:
                worked += 1
            if result.outcome in (StepOutcome.COMPLETED, StepOutcome.CLARIFY):
                continue
            if (result.outcome == StepOutcome.FAILED and not result.fatal
                    and not self.ralph.pause_on_failure):
                continue  # parked with ralph:clarify: no longer ready; take the next one
            final = result
            break
        return await self.end_loop(name, steps, final, loop_log)

    async def pre_loop(self, name: str, loop_log: Path) -> LoopResult | None:
        """The ``pre_loop`` hook; when it fails, the ended loop's result (emitted)."""
        pre = await self._hook("pre_loop", loop_log, {"RALPH_LABEL": name})
        if pre is None or pre.ok:
            return None
        tail = _tail_text(pre.tail, 5)
        loop_result = LoopResult(name, (), None, error=(
            f"the pre_loop hook failed ({pre.detail(self.ralph.hook_timeout)})"
            + (f": {tail}" if tail else "") + f"; log {self.paths.in_workspace(loop_log)}"))
        self.emit(LoopEnded(loop_result))
        return loop_result

    async def end_loop(self, name: str, steps: list[StepResult], final: StepResult | None,
                       loop_log: Path) -> LoopResult:
        """The loop's result, after its ``post_loop`` hook; emitted."""
        loop_result = LoopResult(name, tuple(steps), final,
                                 skipped=tuple(self.skip_reasons.items()))
        if not loop_result.failed or self.ralph.hooks_on_failure:
            ids = {"RALPH_DONE": loop_result.done, "RALPH_PARKED": loop_result.parked,
                   "RALPH_ASKED": loop_result.asked,
                   "RALPH_SKIPPED": tuple(issue for issue, _ in loop_result.skipped)}
            await self._hook("post_loop", loop_log, {
                "RALPH_LABEL": name, "RALPH_EXIT": str(loop_result.exit_code),
                "RALPH_OUTCOME": "failed" if loop_result.failed else
                str(final.outcome) if final is not None else "max-steps",
                **{key: " ".join(value) for key, value in ids.items()}})
        self.emit(LoopEnded(loop_result))
        return loop_result

    # -- check ----------------------------------------------------------------------------
    async def check(self, label: str | None = None, *, review: bool | None = None
                    ) -> PhaseResult:
        """The reviewer: a fresh agent session reads the spec and what changed since the
        label's first step, and either ends with CHECK_COMPLETE having found nothing
        (``ok``) or creates fix-up issues: labelled ``rl-LABEL``, children of the label's
        epic, proposed when review is on. ``outcome`` says which: ``complete``, ``fixups``
        or ``failed``."""
        name = self.label(label)
        state = self.state(name)
        if not (self.workspace / state.spec).is_file():
            raise NotStarted(f"the spec {state.spec} does not exist",
                             "write it with `ralph plan` (or by hand) first")
        proposing = self.ralph.review if review is None else review
        before = await self.store.list_issues()
        known = {issue.id for issue in before}
        scope = LabelScope.build(before, name, state.epic)
        values = self._values(state)
        values["ISSUE_LABELS"] = ",".join(
            [issue_label(name), *([PROPOSED_LABEL] if proposing else [])])
        values["FIXUP_PARENT"] = f"--parent {scope.epic}" if scope.epic else ""
        base = state.extra.get("base_commit")
        values["CHANGES"] = history.changes_hint(base if isinstance(base, str) else None,
                                                 self.task_command, name)
        values["ROUND"] = str(state.iterations.get("check", 0) + 1)
        prompt = templates.render(templates.load(self.paths, "check"), values)
        log = self.paths.logs / log_name("check")
        session = self._session("check", prompt, log, f"ralph-check-{name}", (name,))
        runner = self.runner()
        self.emit(PhaseStarted("check", name, log, time.time(), runner.describe(session)))
        await mutate(self.paths, name, _session_ran("check", self.paths.in_workspace(log)))
        outcome = await runner.run(session, self._line_sink(None))
        fixups, outside = await self._adopt_fixups(name, scope.epic, known, proposing)
        failure = self._settings_changed() or outcome.failure()
        signal = outcome.signal
        if failure is None and signal is not None and signal.kind != "CHECK_COMPLETE":
            failure = (f"blocked: {signal.detail}" if signal.kind == "RALPH_BLOCKED"
                       else f"the agent answered {signal.kind}, not CHECK_COMPLETE")
        count = plural(len(fixups), "fix-up issue")
        also = (f"; {len(outside)} new issue(s) are not part of {issue_label(name)}: "
                f"{', '.join(outside[:5])}") if outside else ""
        if failure is not None:
            result = PhaseResult("check", name, False, f"check did not complete: {failure}"
                                 + (f"; it created {count}" if fixups else "") + also, log,
                                 reason=failure, created=tuple(fixups), epic=scope.epic,
                                 outcome="failed")
        elif fixups:
            waiting = len(fixups) if proposing else 0
            then = (f"review them with `ralph review {name}`, then `ralph loop {name}`"
                    if waiting else f"work them with `ralph loop {name}`")
            result = PhaseResult("check", name, False,
                                 f"check: the reviewer created {count}: "
                                 f"{', '.join(fixups[:8])}{also}; {then}", log,
                                 reason="fix-up issues created", created=tuple(fixups),
                                 epic=scope.epic, proposed=waiting, outcome="fixups")
        else:
            result = PhaseResult("check", name, True,
                                 f"check complete: the reviewer found nothing missing in "
                                 f"{state.spec}{also}", log, epic=scope.epic,
                                 outcome="complete")
        self.emit(PhaseEnded(result))
        return result

    async def _adopt_fixups(self, name: str, epic: str | None, known: set[str],
                            proposing: bool) -> tuple[list[str], list[str]]:
        """The issues the check session created for the label: labelled, made children of
        the epic (reopened when it was closed), proposed when review is on. Returns
        (fix-up ids, new issues that are not the label's)."""
        issues = await self.store.list_issues()
        new = [issue for issue in issues if issue.id not in known]
        members = set(LabelScope.build(issues, name, epic).member_ids)
        fixups = [issue for issue in new if issue.id in members]
        when = timestamps.now()
        for issue in fixups:
            add = tuple(label for label in (issue_label(name),
                                            *((PROPOSED_LABEL,) if proposing else ()))
                        if label not in issue.labels)
            note = (f"Fix-up from ralph check ({when})"
                    + (f"; awaiting review: ralph review {name}" if proposing else "."))
            await self.store.update(issue.id, IssueUpdate(add_labels=add, append_notes=note))
            if epic is not None and issue.id != epic and epic not in set(issue.parents()):
                await self.store.add_dependency(issue.id, epic, PARENT_CHILD)
        by_id = {issue.id: issue for issue in issues}
        epic_issue = by_id.get(epic) if epic else None
        if fixups and epic_issue is not None and epic_issue.is_closed:
            await self.store.update(epic_issue.id, IssueUpdate(
                status="open", append_notes=f"Ralph ({when}): reopened for the fix-ups of "
                                            f"ralph check: {', '.join(i.id for i in fixups)}"))
        outside = [issue.id for issue in new if issue.id not in members]
        return [issue.id for issue in fixups], outside

    async def loop_check(self, label: str | None = None, *,
                         approve: ApproveCallback | None = None,
                         max_steps: int | None = None) -> CheckLoopResult:
        """``ralph loop --check``: loop, then check; again while the checker creates fix-up
        issues, at most ``ralph.max_iterations`` rounds. Exit 0 when the checker is
        satisfied; a loop that does not end with nothing left (a failure, stuck — e.g.
        fix-ups awaiting review —, a stop) ends it with its own code; 1 when the check
        fails or the last round still created fix-ups."""
        name = self.label(label)
        rounds = self.ralph.max_iterations
        loops: list[LoopResult] = []
        checks: list[PhaseResult] = []
        for number in range(1, rounds + 1):
            looped = await self.loop(name, approve=approve, max_steps=max_steps)
            loops.append(looped)
            if looped.final is None or looped.final.outcome != StepOutcome.NOTHING_LEFT:
                why = looped.final.message if looped.final is not None else "stopped"
                return self._check_loop_end(CheckLoopResult(
                    name, tuple(loops), tuple(checks), looped.exit_code,
                    f"loop --check stopped in round {number}: {why}"))
            checked = await self.check(name)
            checks.append(checked)
            if checked.ok:
                return self._check_loop_end(CheckLoopResult(
                    name, tuple(loops), tuple(checks), EXIT_DONE,
                    f"loop --check done: the checker is satisfied after {plural(number, 'round')}"))
            if checked.outcome != "fixups":
                return self._check_loop_end(CheckLoopResult(
                    name, tuple(loops), tuple(checks), EXIT_FAILED,
                    f"loop --check stopped in round {number}: {checked.message}"))
        return self._check_loop_end(CheckLoopResult(
            name, tuple(loops), tuple(checks), EXIT_FAILED,
            f"loop --check gave up: the checker still created fix-up issues after "
            f"{plural(rounds, 'round')} (ralph.max_iterations); "
            f"open: {', '.join(checks[-1].created[:8])}"))

    def _check_loop_end(self, result: CheckLoopResult) -> CheckLoopResult:
        self.emit(CheckLoopEnded(result))
        return result



def _session_ran(phase: str | None, log: str) -> Callable[[LabelState], None]:
    """A state change: count a session of ``phase`` (when given), remember its log."""
    def change(state: LabelState) -> None:
        if phase is not None:
            state.count(phase)
        state.extra["last_log"] = log
    return change


def _after_ready(state: LabelState, epic: str | None, base: str | None) -> None:
    state.count("ready")
    if epic and not state.epic:
        state.epic = epic
    if base:
        state.extra["ready_commit"] = base


def _tail_text(lines: tuple[str, ...], count: int = 30) -> str:
    """The last output lines of a command as one paragraph (no blank lines: the clarify
    inbox reads the notes' last paragraph), terminal escapes removed."""
    kept = [strip_terminal(line).rstrip() for line in lines if line.strip()]
    return "\n".join(kept[-count:])[-4000:]
