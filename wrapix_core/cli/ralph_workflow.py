"""The ``ralph`` workflow commands: start, plan, ready, step, loop, check, status, logs,
tune, use, msg, check-templates, review.

Each is a thin shell over :mod:`wrapix_core.ralph` (the TUI calls the same functions).
The workspace is ``--dir`` or the nearest directory at or above the current one holding
``.wrapix/ralph``, ``specs/`` or ``.beads/``. Text from issues, specs and agents is
escaped before it is printed.

Exit codes: 0 done; 1 a step failed or an agent could not run (or a check failed: ``ralph
check`` created fix-up issues); 2 bad input or not started; 100 nothing left to do; 101
stuck (open issues, none ready); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.ralph import clarify, templates
from wrapix_core.ralph import logs as ralph_logs
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.events import (
    AgentLine,
    AttemptFailed,
    CheckLoopEnded,
    CommandEnded,
    CommandLine,
    CommandStarted,
    Decision,
    EngineEvent,
    LoopEnded,
    Note,
    PhaseEnded,
    PhaseStarted,
    StepEnded,
    StepOutcome,
    StepProposal,
    StepResult,
    StepStarted,
)
from wrapix_core.ralph.state import RalphPaths, known_labels, ralph_paths, resolve_label
from wrapix_core.tasks import display
from wrapix_core.tasks.workspace import BEADS_DIR, find_workspace
from wrapix_core.units import plural

T = TypeVar("T")
WORKSPACE_MARKERS = (".wrapix/ralph", "specs", BEADS_DIR)
PROG = "ralph"


# -- shared -----------------------------------------------------------------------------
def workspace_of(directory: Path | None) -> Path:
    if directory is not None:
        return directory.resolve()
    return find_workspace(Path.cwd(), WORKSPACE_MARKERS) or Path.cwd().resolve()


def _dir_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False,
                                                              path_type=Path),
                        help="Workspace (default: the nearest one holding .wrapix/ralph, "
                             "specs/ or .beads/).")(function)


def _host_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--host", "host", is_flag=True, default=None,
                        help="Run the agent here instead of in a sandbox.")(function)


def _say(text: str, *, err: bool = False) -> None:
    """Print a line. Everything printed goes through here, escaped (ids, paths and other
    text from the store included); fields are escaped again where they are put together,
    which changes nothing for text that is already safe."""
    click.echo(display.block(text), err=err)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return run_async(coro)


class Printer:
    """Engine events as terminal lines (agent text escaped, optionally hidden)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, Note):
            _say(f"{PROG}: {'warning: ' if event.level == 'warning' else ''}"
                 f"{display.line(event.message)}", err=True)
        elif isinstance(event, StepStarted):
            retry = f" (attempt {event.attempt} of {event.attempts})" if event.attempt > 1 else ""
            _say(f"▶ {event.issue.id} [P{event.issue.priority}] "
                 f"{display.line(event.issue.title)}{retry} — {event.where}")
            _say(f"  log: {event.log}")
        elif isinstance(event, PhaseStarted):
            _say(f"▶ {event.phase} {event.label} — {event.where}")
            _say(f"  log: {event.log}")
        elif isinstance(event, AgentLine):
            if not self.quiet:
                for text in event.text:
                    _say(f"  │ {display.line(text)}")
        elif isinstance(event, AttemptFailed):
            then = "retrying" if event.retrying else "no attempts left"
            _say(f"  ✗ attempt {event.attempt} failed: {display.line(event.reason)} ({then})")
        elif isinstance(event, StepEnded):
            _print_result(event.result)
        elif isinstance(event, PhaseEnded):
            mark = "✓" if event.result.ok else "✗"
            _say(f"{mark} {display.line(event.result.message)}")
        elif isinstance(event, CommandStarted):
            _say(f"  ▷ {event.kind} {display.line(event.name)} — {event.where}")
        elif isinstance(event, CommandLine):
            if not self.quiet:
                _say(f"  ┆ {display.line(event.line)}")
        elif isinstance(event, CommandEnded):
            mark = "✓" if event.ok else "✗"
            _say(f"  {mark} {event.kind} {display.line(event.name)}: "
                 f"{display.line(event.detail)} ({event.elapsed:.1f}s)")
        elif isinstance(event, LoopEnded):
            for line in event.result.summary():
                _say(display.line(line))
        elif isinstance(event, CheckLoopEnded):
            mark = "✓" if event.result.exit_code == 0 else "✗"
            _say(f"{mark} {display.line(event.result.message)}")


_MARKS = {StepOutcome.COMPLETED: "✓", StepOutcome.CLARIFY: "?", StepOutcome.FAILED: "✗",
          StepOutcome.NOTHING_LEFT: "·", StepOutcome.STUCK: "!", StepOutcome.STOPPED: "■",
          StepOutcome.SKIPPED: "·"}


def _print_result(result: StepResult) -> None:
    _say(f"{_MARKS[result.outcome]} {display.line(result.message)}")
    if result.log is not None and result.outcome in (StepOutcome.FAILED, StepOutcome.CLARIFY):
        _say(f"  log: {result.log}")
    if result.hint:
        _say(f"  next: {display.line(result.hint)}")


def _engine(directory: Path | None, host: bool | None, quiet: bool = False) -> Any:
    from wrapix_core.ralph.engine import Engine

    return Engine(workspace_of(directory), host=host, on_event=Printer(quiet))


def _paths(directory: Path | None) -> RalphPaths:
    return ralph_paths(workspace_of(directory))


# -- start / use ------------------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@_dir_option
def start(label: str | None, directory: Path | None) -> None:
    """Start LABEL (a random one when omitted): state, templates, specs index."""
    from wrapix_core.ralph.start import start as do_start

    paths = _paths(directory)
    result = do_start(paths, label)
    _say(f"Ralph label: {result.label} (current)")
    spec = paths.workspace / result.spec_path
    _say(f"  spec: {result.spec_path}" + ("" if spec.exists() else " (not written yet)"))
    for created in result.created:
        _say(f"  created {created}")
    for note in result.notes:
        _say(f"  {display.line(note)}")
    _say("next: `ralph plan` to write the spec with the agent, then `ralph ready`"
         if not spec.exists() else "next: `ralph ready` turns the spec into issues")


@click.command()
@click.argument("label")
@_dir_option
def use(label: str, directory: Path | None) -> None:
    """Make LABEL the current label."""
    from wrapix_core.ralph.start import use as do_use

    _say(f"current label: {do_use(_paths(directory), label)}")


# -- plan / ready -------------------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@_host_option
@_dir_option
def plan(label: str | None, host: bool | None, directory: Path | None) -> None:
    """Interview on this terminal to write the spec; ends on INTERVIEW_COMPLETE."""
    engine = _engine(directory, host)
    result = _run(engine.plan(label))
    if result.ok:
        _say(f"next: review {engine.state(result.label).spec}, then `ralph ready`")
    sys.exit(result.exit_code)


@click.command()
@click.argument("label", required=False)
@click.option("--review/--no-review", default=None,
              help="Create the issues as proposed, for `ralph review` (default: the "
                   "ralph.review setting, on).")
@click.option("-q", "--quiet", is_flag=True, help="Do not show the agent's output.")
@_host_option
@_dir_option
def ready(label: str | None, review: bool | None, quiet: bool, host: bool | None,
          directory: Path | None) -> None:
    """The agent turns the spec into an epic and issues; ends on READY_COMPLETE."""
    engine = _engine(directory, host, quiet)
    result = _run(engine.ready(label, review=review))
    if result.ok:
        _say(f"next: `ralph review {result.label}`" if result.proposed
             else f"next: `ralph loop {result.label}` (or `ralph step`)")
    sys.exit(result.exit_code)


# -- step / loop ---------------------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@click.option("-q", "--quiet", is_flag=True, help="Do not show the agent's output.")
@_host_option
@_dir_option
def step(label: str | None, quiet: bool, host: bool | None, directory: Path | None) -> None:
    """Work the next ready issue of LABEL in a fresh agent session.

    Exit codes: 0 done (or parked with a question), 1 failed, 100 nothing left, 101 stuck.
    """
    engine = _engine(directory, host, quiet)
    result = _run(engine.step(label))
    sys.exit(result.exit_code)


def _proposal_lines(proposal: StepProposal) -> list[str]:
    issue = proposal.issue
    lines = [f"Step {proposal.number}: {issue.id} [P{issue.priority}] "
             f"{display.line(issue.title)}   ({proposal.ready} ready)"]
    for dep in issue.dependencies:
        lines.append(f"  {dep.type} {dep.id} ({display.line(dep.status)}) "
                     f"{display.line(dep.title)}")
    body = [line for line in issue.description.strip().splitlines() if line.strip()]
    for line in body[:8]:
        lines.append(f"  {display.line(line)}")
    if len(body) > 8:
        lines.append(f"  … ({plural(len(body) - 8, 'more line')}: `wrapix tasks show {issue.id}`)")
    return lines


_ANSWERS = {"y": Decision.APPROVE, "yes": Decision.APPROVE, "": Decision.APPROVE,
            "s": Decision.SKIP, "n": Decision.SKIP, "skip": Decision.SKIP,
            "q": Decision.STOP, "quit": Decision.STOP, "stop": Decision.STOP,
            "a": Decision.APPROVE_ALL, "all": Decision.APPROVE_ALL}


def _ask_line(question: str) -> str | None:
    click.echo(question, nl=False)
    line = sys.stdin.readline()
    if not sys.stdin.isatty():  # not echoed by a terminal: show what was read
        click.echo(display.line(line.strip()))
    if not line:
        return None
    return line.strip().lower()


async def _ask_line_async(question: str) -> str | None:
    """:func:`_ask_line` without blocking the event loop, or its exit: the line is read in
    a daemon thread, so Ctrl-C at the prompt ends the command at once (a thread of the
    loop's executor would be waited for until the person pressed Enter)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def deliver(line: str | None) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:
        line = _ask_line(question)
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, name="ralph-prompt", daemon=True).start()
    return await answer


async def confirm_on_terminal(proposal: StepProposal) -> Decision:
    """The ``--confirm`` approval: ask on this terminal (stdin) before each step."""
    for line in _proposal_lines(proposal):
        _say(line)
    while True:
        answer = await _ask_line_async("Work on it? [y]es, [s]kip, [a]ll remaining, [q]uit: ")
        if answer is None:
            return Decision.STOP
        if answer in _ANSWERS:
            return _ANSWERS[answer]
        _say("answer y, s, a or q")


@click.command()
@click.argument("label", required=False)
@click.option("--confirm", is_flag=True, help="Ask before each step (approve, skip, all, quit).")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after N steps.")
@click.option("--check", "then_check", is_flag=True,
              help="When nothing is left, run `ralph check`; loop again over its fix-up "
                   "issues, at most ralph.max_iterations rounds.")
@click.option("-q", "--quiet", is_flag=True, help="Do not show the agent's output.")
@click.option("--parallel", type=click.IntRange(min=1), metavar="N",
              help="Up to N issues at once, each in a session of its own; finished ones "
                   "land on the checked-out branch through one merge queue.")
@_host_option
@_dir_option
def loop(label: str | None, confirm: bool, max_steps: int | None, then_check: bool,
         quiet: bool, parallel: int | None, host: bool | None, directory: Path | None) -> None:
    """Work ready issues of LABEL one by one until none is left.

    A failed issue is parked (ralph:clarify, the reason in its notes) and the loop goes
    on with the next ready one (ralph.pause_on_failure = true stops there instead). It
    ends with a summary of what was done, parked, asked and skipped.

    Exit codes: 0 done (stopped, or max steps reached), 1 anything failed, 100 nothing
    left, 101 stuck (blocked, awaiting review or answers). With --check: 0 the checker
    is satisfied, 1 a check failed or fix-ups remain after ralph.max_iterations rounds,
    else the loop's own code.
    """
    engine = _engine(directory, host, quiet)
    if parallel is not None:  # k20-kube: stays a few lines until cli/ralph/ lands
        from wrapix_core.ralph.parallel import run_parallel

        sys.exit(_run(run_parallel(engine, parallel, label, confirm, then_check,
                                   max_steps)).exit_code)
    approve = confirm_on_terminal if confirm else None
    if then_check:
        checked = _run(engine.loop_check(label, approve=approve, max_steps=max_steps))
        sys.exit(checked.exit_code)
    result = _run(engine.loop(label, approve=approve, max_steps=max_steps))
    sys.exit(result.exit_code)


@click.command()
@click.argument("label", required=False)
@click.option("--review/--no-review", default=None,
              help="Create fix-up issues as proposed, for `ralph review` (default: the "
                   "ralph.review setting, on).")
@click.option("-q", "--quiet", is_flag=True, help="Do not show the agent's output.")
@_host_option
@_dir_option
def check(label: str | None, review: bool | None, quiet: bool, host: bool | None,
          directory: Path | None) -> None:
    """A reviewer agent reads the spec and what changed since the label's first step;
    it ends with CHECK_COMPLETE, having created fix-up issues for what is missing.

    Exit codes: 0 the checker is satisfied (no fix-ups), 1 it created fix-up issues or
    could not review.
    """
    engine = _engine(directory, host, quiet)
    result = _run(engine.check(label, review=review))
    sys.exit(result.exit_code)


# -- status ---------------------------------------------------------------------------------
def _status_lines(status: Any) -> list[str]:
    lines = [f"Ralph: {status.label}{' (current)' if status.current else ''}"]
    spec = status.spec + (f" — {display.line(status.spec_title)}" if status.spec_title else "")
    if status.spec_state:
        spec += f" [{status.spec_state}]"
    if status.spec_exists:
        spec += f"  criteria {status.criteria[0]}/{status.criteria[1]}"
    else:
        spec += "  (not written yet: `ralph plan`)"
    lines.append(f"  spec:     {spec}")
    if status.epic:
        lines.append(f"  epic:     {status.epic} ({status.epic_status})")
    counts = ", ".join(f"{count} {display.line(name)}" for name, count in status.by_status.items())
    lines.append(f"  issues:   {status.total}" + (f" — {counts}" if counts else "")
                 + f"  ({status.percent}% done)")
    if status.next is not None:
        lines.append(f"  next:     {status.next.id} [P{status.next.priority}] "
                     f"{display.line(status.next.title)}  ({len(status.ready)} ready)")
    else:
        lines.append("  next:     none ready")
    if status.awaiting_review:
        lines.append(f"  review:   {status.awaiting_review} await"
                     f"{'s' if status.awaiting_review == 1 else ''} review: "
                     f"ralph review {status.label}")
    for issue_id, question in status.clarify:
        lines.append(f"  clarify:  {issue_id}: {display.line(question)[:160]}  (ralph msg)")
    if status.blocked:
        lines.append(f"  blocked:  {status.blocked}")
    for run in status.running:
        if run.alive:
            where = f", sandbox {run.sandbox}" if run.sandbox else ""
            lines.append(f"  running:  {run.issue} since {run.started_at} (pid {run.pid} on "
                         f"{display.line(run.host)}{where}); log {run.log}")
        else:
            lines.append(f"  interrupted: {run.issue} — its step (pid {run.pid}, started "
                         f"{run.started_at}) ended without finishing; the next `ralph step` "
                         f"reopens it. Log {run.log}")
    if status.agent_error:
        at, said, log = status.agent_error
        lines.append(f"  agent:    {display.line(said)[:300]} ({at})"
                     + (f"; log {log}" if log else ""))
    if status.iterations:
        lines.append("  sessions: " + ", ".join(f"{phase} {count}" for phase, count
                                                in status.iterations.items()))
    if status.last_log:
        lines.append(f"  last log: {status.last_log}")
    return lines


@click.command()
@click.argument("label", required=False)
@click.option("--all", "every", is_flag=True, help="Every started label.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@_dir_option
def status(label: str | None, every: bool, as_json: bool, directory: Path | None) -> None:
    """Label, spec, counts and progress, the next task, review and clarify waits, running
    and interrupted steps."""
    from wrapix_core.ralph.status import label_status
    from wrapix_core.tasks.store import open_store

    paths = _paths(directory)
    if not paths.exists:
        raise RalphError(f"Ralph has not been started in {paths.workspace}",
                         "run `ralph start LABEL` first")
    labels = known_labels(paths) if every else [resolve_label(paths, label)]
    store = open_store(paths.workspace)

    async def gather() -> list[Any]:
        return [await label_status(paths, store, name) for name in labels]

    found = _run(gather())
    if as_json:
        echo_json([item.to_json() for item in found] if every else found[0].to_json())
        return
    for number, item in enumerate(found):
        if number:
            _say("")
        for line in _status_lines(item):
            _say(line)


# -- logs -----------------------------------------------------------------------------------
@click.command(name="logs")
@click.argument("selector", metavar="[PHASE|ISSUE]", required=False)
@click.option("-n", "lines", type=click.IntRange(min=0), default=40, show_default=True,
              help="How many lines from the end.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C ends).")
@click.option("--raw", is_flag=True, help="The agent's raw output (stream-json lines).")
@click.option("--list", "listing", is_flag=True, help="List the log files instead.")
@_dir_option
def logs(selector: str | None, lines: int, follow: bool, raw: bool, listing: bool,
          directory: Path | None) -> None:
    """Show the latest log: of a phase (plan, ready, check, step) or of an issue."""
    paths = _paths(directory)
    if listing:
        for path in ralph_logs.list_logs(paths, selector):
            _say(paths.in_workspace(path))
        return
    path = ralph_logs.latest(paths, selector)
    _say(f"==> {paths.in_workspace(path)} <==", err=True)
    content, start_at = ralph_logs.snapshot(path, paths.anchor)
    shown = ralph_logs.render(content, raw)
    for line in shown[-lines:] if lines else []:
        _say(display.line(line))
    if follow:

        def emit(line: str) -> None:
            for text in ralph_logs.render([line], raw):
                _say(display.line(text))

        _run(ralph_logs.follow(path, emit, start=start_at, anchor=paths.anchor))



# -- tune / check-templates -------------------------------------------------------------
def _editor() -> list[str]:
    line = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise RalphError(f"$EDITOR is not a valid command line ({exc})") from None
    if not argv:
        raise RalphError("$EDITOR is empty", "set it, e.g. `export EDITOR=vim`")
    return argv


def edit_text(text: str, suffix: str, check: Callable[[str], list[str]]) -> str | None:
    """Open ``text`` in ``$EDITOR`` until ``check`` finds no problem (or the person gives
    up). Returns the accepted text, or None when it was left unchanged or abandoned."""
    from wrapix_core.ralph import terminal

    with tempfile.TemporaryDirectory(prefix="ralph-edit-") as folder:
        draft = Path(folder) / f"edit{suffix}"
        draft.write_text(text, encoding="utf-8")
        while True:
            code = terminal.run_attached([*_editor(), str(draft)], timeout=24 * 3600)
            if code != 0:
                raise RalphError(f"the editor exited with code {code}; nothing was changed")
            edited = draft.read_text(encoding="utf-8", errors="replace")
            if edited == text:
                return None
            wrong = check(edited)
            if not wrong:
                return edited
            for problem in wrong:
                _say(f"  ✗ {display.line(problem)}", err=True)
            if not sys.stdin.isatty() or not click.confirm("Edit again?", default=True):
                raise RalphError("the edit was not valid; nothing was changed")


@click.command()
@click.argument("phase", type=click.Choice(templates.PHASES))
@_dir_option
def tune(phase: str, directory: Path | None) -> None:
    """Edit the project's PHASE prompt in $EDITOR; it is saved only when it renders."""
    paths = _paths(directory)
    current = templates.load(paths, phase)
    target = templates.project_path(paths, phase)

    def check(text: str) -> list[str]:
        candidate = templates.Template(phase, text, str(target))
        wrong = templates.problems(candidate, templates.sample_values(phase))
        if not wrong:
            try:
                templates.render(candidate, templates.sample_values(phase))
            except RalphError as exc:
                wrong.append(str(exc))
        return wrong

    edited = edit_text(current.text, ".md", check)
    if edited is None:
        _say(f"{phase} prompt unchanged ({current.origin})")
        return
    paths.write_text(target, edited)  # never through a link
    _say(f"saved {paths.in_workspace(target)}")


@click.command(name="check-templates")
@_dir_option
def check_templates(directory: Path | None) -> None:
    """Render every prompt with sample values; exit 1 on an unknown or missing placeholder."""
    paths = _paths(directory)
    failed = False
    for phase in templates.PHASES:
        template = templates.load(paths, phase)
        wrong = templates.problems(template, templates.sample_values(phase))
        if not wrong:
            try:
                rendered = templates.render(template, templates.sample_values(phase))
            except RalphError as exc:
                wrong = [str(exc)]
        if wrong:
            failed = True
            _say(f"✗ {phase}: {template.origin}")
            for problem in wrong:
                _say(f"    {display.line(problem)}")
        else:
            _say(f"✓ {phase}: {template.origin} ({len(rendered.encode())} bytes rendered)")
    sys.exit(1 if failed else 0)


# -- msg ------------------------------------------------------------------------------------
@click.command()
@click.option("-n", "number", type=click.IntRange(min=1), help="The Nth question as listed.")
@click.option("-i", "--id", "issue_id", help="The question of this issue.")
@click.option("-a", "--answer", "answer_text",
              help="Answer it (reopens the issue); a number N picks option N of a question "
                   "that offered options.")
@click.option("-d", "--dismiss", is_flag=True, help="Dismiss it: work around the question.")
@click.option("-l", "--label", help="Only questions of this label.")
@click.option("--json", "as_json", is_flag=True, help="List the questions as JSON.")
@_dir_option
def msg(number: int | None, issue_id: str | None, answer_text: str | None, dismiss: bool,
        label: str | None, as_json: bool, directory: Path | None) -> None:
    """The clarify inbox: list questions, show one (-n/-i), answer (-a) or dismiss (-d)."""
    from wrapix_core.tasks.store import open_store

    if answer_text is not None and dismiss:
        raise RalphError("give either -a ANSWER or -d, not both")
    store = open_store(workspace_of(directory))
    found = _run(clarify.questions(store, label))
    if number is None and issue_id is None:
        if answer_text is not None or dismiss:
            raise RalphError("say which question: -n N or -i ID")
        if as_json:
            echo_json([{"n": index, "id": item.id, "title": item.issue.title,
                        "labels": list(item.labels), "question": item.question}
                       for index, item in enumerate(found, start=1)])
            return
        if not found:
            _say("No open questions.")
            return
        for index, item in enumerate(found, start=1):
            labels = f" [{', '.join(item.labels)}]" if item.labels else ""
            _say(f"{index}. {item.id}{labels} {display.line(item.issue.title)}")
            for line in _question_lines(item):
                _say(f"   {line}")
        _say("answer with `ralph msg -n N -a ANSWER` (-a N picks option N; -d dismisses)")
        return
    chosen = clarify.pick(found, number=number, issue_id=issue_id)
    if answer_text is not None:
        text = clarify.chosen_answer(chosen, answer_text)
        updated = _run(clarify.answer(store, chosen.id, text))
        _say(f"answered {chosen.id}" + (f" with {display.line(text)}" if text != answer_text
                                        else "") + "; it is open again")
        _say(f"next: {clarify.resume_hint(updated)}")
        return
    if dismiss:
        updated = _run(clarify.dismiss(store, chosen.id))
        _say(f"dismissed the question of {chosen.id}; it is open again")
        _say(f"next: {clarify.resume_hint(updated)}")
        return
    issue = chosen.issue
    _say(f"{issue.id} [P{issue.priority}] {display.line(issue.title)}  ({issue.status})")
    if issue.labels:
        _say("labels: " + ", ".join(display.line(name) for name in issue.labels))
    _say("")
    _say("question:")
    for line in _question_lines(chosen):
        _say(f"  {line}")
    _say("")
    _say("notes:")
    _say(display.block(issue.notes.strip()))
    _say("")
    _say(f"answer with `ralph msg -i {issue.id} -a ANSWER`"
         + (" (-a N picks option N)" if clarify.question_options(chosen.question)[1] else "")
         + " or -d to dismiss")


def _question_lines(question: clarify.Question) -> list[str]:
    """The whole question, escaped; its options numbered as ``-a N`` picks them."""
    heading, options = clarify.question_options(question.question)
    text = question.question
    if options:
        cut = clarify.options_start(text)
        text = text[:cut].rstrip()
    lines = [display.line(line) for line in text.splitlines()] or [""]
    if options:
        lines.append("options" + (f" — {display.line(heading)}" if heading else "") + ":")
        for option in options:
            lines.append(f"  {option.number}. {display.line(option.title)}")
            lines.extend(f"     {display.line(line)}" for line in option.body.splitlines()
                         if line.strip())
    return lines


# -- review -----------------------------------------------------------------------------------
_REVIEW_ANSWERS = {"y": "approve", "yes": "approve", "e": "edit", "edit": "edit",
                   "r": "reject", "reject": "reject", "a": "all", "all": "all",
                   "q": "quit", "quit": "quit"}


def _review_lines(item: Any, number: int, total: int) -> list[str]:
    issue = item.issue
    lines = [f"[{number}/{total}] {issue.id} [P{issue.priority}] {display.line(issue.title)}"]
    for dep in item.depends_on:
        lines.append(f"  depends on {dep.id} ({display.line(dep.status)}) "
                     f"{display.line(dep.title)}")
    if item.needed_by:
        lines.append(f"  needed by {', '.join(item.needed_by)}")
    if item.flagged:
        lines.append(f"  ! flagged: {display.line(clarify.latest_paragraph(issue.notes))}")
    for line in (issue.description.strip() or "(no description)").splitlines()[:20]:
        lines.append(f"  {display.line(line)}")
    return lines


async def _ask(question: str, answers: dict[str, str]) -> str:
    while True:
        answer = await _ask_line_async(question)
        if answer is None:
            return "quit"
        if answer in answers:
            return answers[answer]
        _say("answer " + ", ".join(sorted({key for key in answers if len(key) == 1})))


async def _review_session(paths: RalphPaths, label: str) -> int:
    from wrapix_core.ralph import review as core
    from wrapix_core.ralph.state import read_label_state
    from wrapix_core.tasks.store import open_store

    store = open_store(paths.workspace)
    epic = read_label_state(paths, label).epic
    queue = await core.pending(store, label, epic)
    if not queue.items:
        _say(f"nothing awaits review for {label}")
        return 100
    counts = {"approved": 0, "edited": 0, "rejected": 0}
    total = len(queue.items)
    for number, item in enumerate(queue.items, start=1):
        current = (await core.pending(store, label, epic)).items
        fresh = next((entry for entry in current if entry.issue.id == item.issue.id), None)
        if fresh is None:  # decided meanwhile (another reviewer, the TUI)
            continue
        while True:
            for line in _review_lines(fresh, number, total):
                _say(line)
            choice = await _ask("[y] approve, [e]dit, [r]eject, [a]pprove all remaining, "
                                "[q]uit: ", _REVIEW_ANSWERS)
            if choice == "approve":
                await core.approve(store, fresh.issue.id)
                counts["approved"] += 1
                _say(f"  approved {fresh.issue.id}")
                break
            if choice == "edit":
                try:
                    edited = edit_text(core.edit_document(fresh.issue), ".md",
                                       _edit_problems(core.parse_edit_document))
                except RalphError as exc:
                    _say(f"  ✗ {display.line(str(exc))}")
                    edited = None
                if edited is not None:
                    await core.edit(store, fresh.issue.id, core.parse_edit_document(edited))
                    counts["edited"] += 1
                    _say(f"  edited {fresh.issue.id}")
                fresh = next(entry for entry in (await core.pending(store, label, epic)).items
                             if entry.issue.id == fresh.issue.id)
                continue
            if choice == "reject":
                if fresh.needed_by:
                    many = len(fresh.needed_by) > 1
                    _say(f"  {', '.join(fresh.needed_by)} depend{'' if many else 's'} on "
                         f"{fresh.issue.id}: {'they' if many else 'it'} will be flagged to "
                         "wait for your decision")
                    sure = await _ask("  Reject anyway? [y/n]: ",
                                      {"y": "yes", "yes": "yes", "n": "no", "no": "no"})
                    if sure != "yes":
                        continue
                rejected = await core.reject(store, fresh.issue.id)
                counts["rejected"] += 1
                _say(f"  rejected {fresh.issue.id}"
                     + (f"; flagged {', '.join(rejected.flagged)}" if rejected.flagged else "")
                     + (f"; closed epic {rejected.epic_closed}" if rejected.epic_closed
                        else ""))
                break
            if choice == "all":
                done = await core.approve_all(store, label, epic=epic)
                counts["approved"] += len(done)
                _say(f"  approved {len(done)}: {', '.join(done)}")
                return _review_summary(counts, label, await core.pending(
                    store, label, epic))
            return _review_summary(counts, label,
                                   await core.pending(store, label, epic))
    return _review_summary(counts, label, await core.pending(store, label, epic))


def _edit_problems(parse: Callable[[str], Any]) -> Callable[[str], list[str]]:
    def check(text: str) -> list[str]:
        try:
            parse(text)
        except RalphError as exc:
            return [str(exc)]
        return []
    return check


def _review_summary(counts: dict[str, int], label: str, left: Any) -> int:
    _say(f"review: {counts['approved']} approved, {counts['edited']} edited, "
         f"{counts['rejected']} rejected, {len(left.items)} still proposed")
    if left.items:
        _say(f"next: `ralph review {label}` for the rest, or `ralph loop {label}`")
    else:
        _say(f"next: `ralph loop {label}`")
    return 0


@click.command()
@click.argument("label", required=False)
@click.option("--json", "as_json", is_flag=True, help="List what awaits review as JSON.")
@_dir_option
def review(label: str | None, as_json: bool, directory: Path | None) -> None:
    """Review the issues `ralph ready` proposed, in dependency order: approve, edit
    (in $EDITOR), reject, approve all remaining, or quit (the rest stay proposed).

    Exit codes: 0 reviewed (or listed), 100 nothing awaits review.
    """
    from wrapix_core.ralph import review as core
    from wrapix_core.ralph.state import read_label_state
    from wrapix_core.tasks.store import open_store

    paths = _paths(directory)
    name = resolve_label(paths, label)
    if as_json:
        queue = _run(core.pending(open_store(paths.workspace), name,
                                  read_label_state(paths, name).epic))
        echo_json(queue.to_json())
        return
    sys.exit(_run(_review_session(paths, name)))
