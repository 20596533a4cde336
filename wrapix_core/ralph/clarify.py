"""The clarify inbox (``ralph msg``): questions agents asked, and a person's answers.

An issue waits for a person when it carries ``ralph:clarify``: its agent ended with
``RALPH_CLARIFY: question``, every attempt failed, or review flagged it. The question is
the agent's whole question (from its "Question from the agent" note on, options included)
or else the latest paragraph of the notes; :func:`question_options` reads the options
format the prompt asks for, and ``-a N`` picks option N (:func:`chosen_answer`).
Answering appends the answer to the notes (who, when, what), removes the label and
reopens the issue, so the next ``ralph step`` takes it again with the answer in its
notes; dismissing does the same with "work around it".

:func:`notify` tells the person through the notification daemon, exactly as
``wrapix-notify`` does (same target resolution and wire format), with
``kind="ralph-clarify"``; no daemon means no notification and no error.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from wrapix_core.ralph.errors import RalphError
from wrapix_core.ralph.scope import LabelScope
from wrapix_core.tasks import timestamps
from wrapix_core.tasks.edits import actor
from wrapix_core.tasks.model import CLARIFY_LABEL, Issue
from wrapix_core.tasks.store import IssueUpdate, TaskStore

KIND = "ralph-clarify"


@dataclass(frozen=True)
class Question:
    issue: Issue
    question: str
    labels: tuple[str, ...]
    """The issue's Ralph labels (``rl-…``), for grouping."""

    @property
    def id(self) -> str:
        return self.issue.id


def latest_paragraph(notes: str) -> str:
    paragraphs = [part.strip() for part in notes.split("\n\n") if part.strip()]
    return paragraphs[-1] if paragraphs else ""


# -- the question and its options (the TUI's clarify screen uses the same parser) --------
_QUESTION_MARK = "Question from the agent ("
_DASH = r"(?:—|–|--|-)"
# Agents do not always capitalise headings as the prompt does: any case is taken.
_OPTIONS = re.compile(rf"^#{{1,3}}\s*Options\s*{_DASH}?\s*(.*)$", re.MULTILINE | re.IGNORECASE)
_OPTION = re.compile(rf"^#{{2,4}}\s*Option\s+(\d+)\s*{_DASH}\s*(.+?)\s*$",
                     re.MULTILINE | re.IGNORECASE)


_LATER_NOTE = re.compile(r"\n\n(?:Answer|Dismissed|Review|Ralph gave up|Ralph) \(")
"""A note the core appends after a question (an answer, a give-up, a review flag)."""


def question_text(notes: str) -> str:
    """The open question of a clarify issue: from the last "Question from the agent"
    note to the end (a question may span paragraphs) unless a later note ended it (an
    answer, then Ralph gave up or review flagged it); else the latest paragraph, as
    ``ralph msg`` shows it."""
    index = notes.rfind(_QUESTION_MARK)
    if index >= 0 and _LATER_NOTE.search(notes, index) is None:
        text = notes[index:]
        close = text.find("): ")
        return text[close + 3:].strip() if close >= 0 else text.strip()
    return latest_paragraph(notes)


@dataclass(frozen=True)
class QuestionOption:
    number: int
    title: str
    body: str

    @property
    def answer(self) -> str:
        return f"Option {self.number} — {self.title}"


def options_start(text: str) -> int:
    """Where the options of ``text`` begin (its length when it has none)."""
    heading = _OPTIONS.search(text)
    return heading.start() if heading is not None else len(text)


def question_options(text: str) -> tuple[str, list[QuestionOption]]:
    """``(heading, options)`` when ``text`` uses the options format (``## Options — …``
    then ``### Option N — title`` with an em dash, en dash, ``-`` or ``--``); else
    ``("", [])``."""
    heading = _OPTIONS.search(text)
    if heading is None:
        return "", []
    rest = text[heading.end():]
    matches = list(_OPTION.finditer(rest))
    options = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(rest)
        options.append(QuestionOption(int(match.group(1)), match.group(2).strip(),
                                      rest[match.end():end].strip()))
    return heading.group(1).strip(), options


async def questions(store: TaskStore, label: str | None = None) -> list[Question]:
    """Open issues with ``ralph:clarify`` (of ``label`` when given), oldest first."""
    issues = await store.list_issues()
    wanted: set[str] | None = None
    if label is not None:
        wanted = set(LabelScope.build(issues, label).member_ids)
    found = [issue for issue in issues if CLARIFY_LABEL in issue.labels
             and not issue.is_closed and (wanted is None or issue.id in wanted)]
    found.sort(key=lambda issue: (issue.updated_at, issue.id))
    return [Question(issue, question_text(issue.notes) or issue.title,
                     tuple(name for name in issue.labels if name.startswith("rl-")))
            for issue in found]


def pick(found: list[Question], *, number: int | None = None,
         issue_id: str | None = None) -> Question:
    """The question numbered ``number`` (1-based, as listed) or of ``issue_id``."""
    if issue_id is not None:
        for item in found:
            if item.id == issue_id:
                return item
        raise RalphError(f"{issue_id} has no open question",
                         "`ralph msg` lists the questions")
    if number is not None:
        if not 1 <= number <= len(found):
            raise RalphError(f"there is no question {number} ({len(found)} open)",
                             "`ralph msg` lists them with their numbers")
        return found[number - 1]
    raise RalphError("say which question: -n N or -i ID")


def chosen_answer(question: Question, text: str) -> str:
    """The answer ``text`` stands for: a bare number picks that option when the question
    offered options (``Option N — title``); anything else is the answer as typed."""
    stripped = text.strip()
    _, options = question_options(question.question)
    if not options or not stripped.isdigit():
        return text
    for option in options:
        if option.number == int(stripped):
            return option.answer
    raise RalphError(f"{question.id} offers options "
                     f"{', '.join(str(option.number) for option in options)}; there is no "
                     f"option {stripped}", f"`ralph msg -i {question.id}` shows them; or "
                     "answer in words")


def _resume_label(issue: Issue) -> str | None:
    names = [name[3:] for name in issue.labels if name.startswith("rl-")]
    return names[0] if names else None


async def answer(store: TaskStore, issue_id: str, text: str, who: str | None = None) -> Issue:
    """Record ``text`` as the answer, remove ``ralph:clarify``, reopen the issue."""
    if not text.strip():
        raise RalphError("an answer cannot be empty", "give it with -a TEXT (or dismiss with -d)")
    note = f"Answer ({who or actor()}, {timestamps.now()}): {text.strip()}"
    return await store.update(issue_id, IssueUpdate(
        status="open", remove_labels=(CLARIFY_LABEL,), append_notes=note))


async def dismiss(store: TaskStore, issue_id: str, who: str | None = None) -> Issue:
    """Drop the question: the agent is to work around it."""
    note = (f"Dismissed ({who or actor()}, {timestamps.now()}): no answer; work around the "
            "question.")
    return await store.update(issue_id, IssueUpdate(
        status="open", remove_labels=(CLARIFY_LABEL,), append_notes=note))


def resume_hint(issue: Issue) -> str:
    label = _resume_label(issue)
    return (f"resume with `ralph step {label}` (or `ralph loop {label}`)" if label
            else "resume with `ralph step` (or `ralph loop`)")


def question_note(question: str, log: str) -> str:
    return f"Question from the agent ({timestamps.now()}, log {log}): {question}"


def _send(title: str, message: str, sandbox: str, kind: str,
          env: Mapping[str, str]) -> bool:
    from wrapix_core.notify.client import resolve_target, send
    from wrapix_core.notify.protocol import MAX_LINE, Notification, encode

    target = resolve_target(env)
    if target is None:
        return False
    budget = MAX_LINE // 8
    line = encode(Notification(title[:200], message[:budget], session_id=None,
                               sandbox=sandbox, kind=kind))
    try:
        send(line, target)
    except OSError:
        return False
    return True


async def notify(title: str, message: str, *, sandbox: str = "ralph", kind: str = KIND,
                 env: Mapping[str, str] | None = None) -> bool:
    """Send one notification through the daemon; False when none listens (never raises)."""
    environ = dict(os.environ if env is None else env)
    return await asyncio.to_thread(_send, title, message, sandbox, kind, environ)
