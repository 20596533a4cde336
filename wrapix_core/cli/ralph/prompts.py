"""Questions asked on this terminal: the ``loop --confirm`` approval, the answers of
``ralph review``, and editing text in ``$EDITOR`` until it is valid.

A line is read in a daemon thread, so Ctrl-C at a prompt ends the command at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from wrapix_core import untrusted
from wrapix_core.cli.ralph.output import say
from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.events import Decision, StepProposal
from wrapix_core.units import plural


def proposal_lines(proposal: StepProposal) -> list[str]:
    issue = proposal.issue
    lines = [f"Step {proposal.number}: {issue.id} [P{issue.priority}] "
             f"{untrusted.line(issue.title)}   ({proposal.ready} ready)"]
    for dep in issue.dependencies:
        lines.append(f"  {dep.type} {dep.id} ({untrusted.line(dep.status)}) "
                     f"{untrusted.line(dep.title)}")
    body = [line for line in issue.description.strip().splitlines() if line.strip()]
    for line in body[:8]:
        lines.append(f"  {untrusted.line(line)}")
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
        click.echo(untrusted.line(line.strip()))
    if not line:
        return None
    return line.strip().lower()


async def ask_line_async(question: str) -> str | None:
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
    for line in proposal_lines(proposal):
        say(line)
    while True:
        answer = await ask_line_async("Work on it? [y]es, [s]kip, [a]ll remaining, [q]uit: ")
        if answer is None:
            return Decision.STOP
        if answer in _ANSWERS:
            return _ANSWERS[answer]
        say("answer y, s, a or q")


async def ask(question: str, answers: dict[str, str]) -> str:
    """Ask until one of ``answers`` (typed answer -> meaning) is given; ``quit`` at the end
    of input."""
    while True:
        answer = await ask_line_async(question)
        if answer is None:
            return "quit"
        if answer in answers:
            return answers[answer]
        say("answer " + ", ".join(sorted({key for key in answers if len(key) == 1})))


def edit_text(text: str, suffix: str, check: Callable[[str], list[str]]) -> str | None:
    """Open ``text`` in ``$EDITOR`` until ``check`` finds no problem (or the person gives
    up). Returns the accepted text, or None when it was left unchanged or abandoned."""
    from wrapix_core.ralph import terminal

    with tempfile.TemporaryDirectory(prefix="ralph-edit-") as folder:
        draft = Path(folder) / f"edit{suffix}"
        draft.write_text(text, encoding="utf-8")
        while True:
            code = terminal.run_attached([*terminal.editor_argv(), str(draft)],
                                         timeout=terminal.EDIT_TIMEOUT)
            if code != 0:
                raise RalphError(f"the editor exited with code {code}; nothing was changed")
            edited = draft.read_text(encoding="utf-8", errors="replace")
            if edited == text:
                return None
            wrong = check(edited)
            if not wrong:
                return edited
            for problem in wrong:
                say(f"  ✗ {untrusted.line(problem)}", err=True)
            if not sys.stdin.isatty() or not click.confirm("Edit again?", default=True):
                raise RalphError("the edit was not valid; nothing was changed")


def edit_problems(parse: Callable[[str], Any]) -> Callable[[str], list[str]]:
    """An :func:`edit_text` check from a parser that raises :class:`RalphError`."""

    def check(text: str) -> list[str]:
        try:
            parse(text)
        except RalphError as exc:
            return [str(exc)]
        return []
    return check
