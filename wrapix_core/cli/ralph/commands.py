"""The ``ralph`` workflow commands: start, use, plan, ready, step, loop, check, logs,
tune, check-templates (status, msg and review have their own modules).

Each is a thin shell over :mod:`wrapix_core.ralph` (the TUI calls the same functions).

Exit codes: 0 done; 1 a step failed or an agent could not run (or a check failed: ``ralph
check`` created fix-up issues); 2 bad input or not started; 100 nothing left to do; 101
stuck (open issues, none ready); 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import run_async
from wrapix_core.cli.ralph.output import (
    dir_option,
    engine_for,
    host_option,
    paths_for,
    quiet_option,
    review_option,
    say,
)
from wrapix_core.cli.ralph.prompts import confirm_on_terminal, edit_text
from wrapix_core.ralph import logs as ralph_logs
from wrapix_core.ralph import templates
from wrapix_core.ralph.errors import RalphError


# -- start / use ------------------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@dir_option
def start(label: str | None, directory: Path | None) -> None:
    """Start LABEL (a random one when omitted): state, templates, specs index."""
    from wrapix_core.ralph.start import start as do_start

    paths = paths_for(directory)
    result = do_start(paths, label)
    say(f"Ralph label: {result.label} (current)")
    spec = paths.workspace / result.spec_path
    say(f"  spec: {result.spec_path}" + ("" if spec.exists() else " (not written yet)"))
    for created in result.created:
        say(f"  created {created}")
    for note in result.notes:
        say(f"  {untrusted.line(note)}")
    say("next: `ralph plan` to write the spec with the agent, then `ralph ready`"
        if not spec.exists() else "next: `ralph ready` turns the spec into issues")


@click.command()
@click.argument("label")
@dir_option
def use(label: str, directory: Path | None) -> None:
    """Make LABEL the current label."""
    from wrapix_core.ralph.start import use as do_use

    say(f"current label: {do_use(paths_for(directory), label)}")


# -- plan / ready -----------------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@host_option
@dir_option
def plan(label: str | None, host: bool | None, directory: Path | None) -> None:
    """Interview on this terminal to write the spec; ends on INTERVIEW_COMPLETE."""
    engine = engine_for(directory, host)
    result = run_async(engine.plan(label))
    if result.ok:
        say(f"next: review {engine.state(result.label).spec}, then `ralph ready`")
    sys.exit(result.exit_code)


@click.command()
@click.argument("label", required=False)
@review_option("the issues")
@quiet_option
@host_option
@dir_option
def ready(label: str | None, review: bool | None, quiet: bool, host: bool | None,
          directory: Path | None) -> None:
    """The agent turns the spec into an epic and issues; ends on READY_COMPLETE."""
    engine = engine_for(directory, host, quiet)
    result = run_async(engine.ready(label, review=review))
    if result.ok:
        say(f"next: `ralph review {result.label}`" if result.proposed
            else f"next: `ralph loop {result.label}` (or `ralph step`)")
    sys.exit(result.exit_code)


# -- step / loop / check ----------------------------------------------------------------
@click.command()
@click.argument("label", required=False)
@quiet_option
@host_option
@dir_option
def step(label: str | None, quiet: bool, host: bool | None, directory: Path | None) -> None:
    """Work the next ready issue of LABEL in a fresh agent session.

    Exit codes: 0 done (or parked with a question), 1 failed, 100 nothing left, 101 stuck.
    """
    engine = engine_for(directory, host, quiet)
    result = run_async(engine.step(label))
    sys.exit(result.exit_code)


@click.command()
@click.argument("label", required=False)
@click.option("--confirm", is_flag=True, help="Ask before each step (approve, skip, all, quit).")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after N steps.")
@click.option("--check", "then_check", is_flag=True,
              help="When nothing is left, run `ralph check`; loop again over its fix-up "
                   "issues, at most ralph.max_iterations rounds.")
@quiet_option
@click.option("--parallel", type=click.IntRange(min=1), metavar="N",
              help="Up to N issues at once, each in a session of its own; finished ones "
                   "land on the checked-out branch through one merge queue.")
@host_option
@dir_option
def loop(label: str | None, confirm: bool, max_steps: int | None, then_check: bool,
         quiet: bool, parallel: int | None, host: bool | None, directory: Path | None
         ) -> None:
    """Work ready issues of LABEL one by one until none is left.

    A failed issue is parked (ralph:clarify, the reason in its notes) and the loop goes
    on with the next ready one (ralph.pause_on_failure = true stops there instead). It
    ends with a summary of what was done, parked, asked and skipped.

    With --parallel N, up to N issues at once, each in a session of its own (branch
    wrapix/ralph-ISSUE); a finished one lands on the checked-out branch through one
    merge queue before it is closed, and a conflict puts it back open with the files
    and the session that keeps its work in its notes.

    Exit codes: 0 done (stopped, or max steps reached), 1 anything failed, 100 nothing
    left, 101 stuck (blocked, awaiting review or answers). With --check: 0 the checker
    is satisfied, 1 a check failed or fix-ups remain after ralph.max_iterations rounds,
    else the loop's own code.
    """
    engine = engine_for(directory, host, quiet)
    if parallel is not None:
        from wrapix_core.ralph.parallel import run_parallel

        sys.exit(run_async(run_parallel(engine, parallel, label, confirm, then_check,
                                        max_steps)).exit_code)
    approve = confirm_on_terminal if confirm else None
    if then_check:
        checked = run_async(engine.loop_check(label, approve=approve, max_steps=max_steps))
        sys.exit(checked.exit_code)
    result = run_async(engine.loop(label, approve=approve, max_steps=max_steps))
    sys.exit(result.exit_code)


@click.command()
@click.argument("label", required=False)
@review_option("fix-up issues")
@quiet_option
@host_option
@dir_option
def check(label: str | None, review: bool | None, quiet: bool, host: bool | None,
          directory: Path | None) -> None:
    """A reviewer agent reads the spec and what changed since the label's first step;
    it ends with CHECK_COMPLETE, having created fix-up issues for what is missing.

    Exit codes: 0 the checker is satisfied (no fix-ups), 1 it created fix-up issues or
    could not review.
    """
    engine = engine_for(directory, host, quiet)
    result = run_async(engine.check(label, review=review))
    sys.exit(result.exit_code)


# -- logs -------------------------------------------------------------------------------
@click.command(name="logs")
@click.argument("selector", metavar="[PHASE|ISSUE]", required=False)
@click.option("-n", "lines", type=click.IntRange(min=0), default=40, show_default=True,
              help="How many lines from the end.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C ends).")
@click.option("--raw", is_flag=True, help="The agent's raw output (stream-json lines).")
@click.option("--list", "listing", is_flag=True, help="List the log files instead.")
@dir_option
def logs(selector: str | None, lines: int, follow: bool, raw: bool, listing: bool,
          directory: Path | None) -> None:
    """Show the latest log: of a phase (plan, ready, check, step) or of an issue."""
    paths = paths_for(directory)
    if listing:
        for path in ralph_logs.list_logs(paths, selector):
            say(paths.in_workspace(path))
        return
    path = ralph_logs.latest(paths, selector)
    say(f"==> {paths.in_workspace(path)} <==", err=True)
    content, start_at = ralph_logs.snapshot(path, paths.anchor)
    shown = ralph_logs.render(content, raw)
    for line in shown[-lines:] if lines else []:
        say(untrusted.line(line))
    if follow:

        def emit(line: str) -> None:
            for text in ralph_logs.render([line], raw):
                say(untrusted.line(text))

        run_async(ralph_logs.follow(path, emit, start=start_at, anchor=paths.anchor))


# -- tune / check-templates -------------------------------------------------------------
@click.command()
@click.argument("phase", type=click.Choice(templates.PHASES))
@dir_option
def tune(phase: str, directory: Path | None) -> None:
    """Edit the project's PHASE prompt in $EDITOR; it is saved only when it renders."""
    paths = paths_for(directory)
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
        say(f"{phase} prompt unchanged ({current.origin})")
        return
    paths.write_text(target, edited)  # never through a link
    say(f"saved {paths.in_workspace(target)}")


@click.command(name="check-templates")
@dir_option
def check_templates(directory: Path | None) -> None:
    """Render every prompt with sample values; exit 1 on an unknown or missing placeholder."""
    paths = paths_for(directory)
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
            say(f"✗ {phase}: {template.origin}")
            for problem in wrong:
                say(f"    {untrusted.line(problem)}")
        else:
            say(f"✓ {phase}: {template.origin} ({len(rendered.encode())} bytes rendered)")
    sys.exit(1 if failed else 0)
