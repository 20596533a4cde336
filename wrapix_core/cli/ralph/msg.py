"""``ralph msg``: the clarify inbox (list the questions agents asked, show one, answer or
dismiss it)."""

from __future__ import annotations

from pathlib import Path

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.cli.ralph.output import dir_option, say, workspace_of
from wrapix_core.ralph import clarify
from wrapix_core.ralph.errors import RalphError


@click.command()
@click.option("-n", "number", type=click.IntRange(min=1), help="The Nth question as listed.")
@click.option("-i", "--id", "issue_id", help="The question of this issue.")
@click.option("-a", "--answer", "answer_text",
              help="Answer it (reopens the issue); a number N picks option N of a question "
                   "that offered options.")
@click.option("-d", "--dismiss", is_flag=True, help="Dismiss it: work around the question.")
@click.option("-l", "--label", help="Only questions of this label.")
@click.option("--json", "as_json", is_flag=True, help="List the questions as JSON.")
@dir_option
def msg(number: int | None, issue_id: str | None, answer_text: str | None, dismiss: bool,
        label: str | None, as_json: bool, directory: Path | None) -> None:
    """The clarify inbox: list questions, show one (-n/-i), answer (-a) or dismiss (-d)."""
    from wrapix_core.tasks.store import open_store

    if answer_text is not None and dismiss:
        raise RalphError("give either -a ANSWER or -d, not both")
    store = open_store(workspace_of(directory))
    found = run_async(clarify.questions(store, label))
    if number is None and issue_id is None:
        if answer_text is not None or dismiss:
            raise RalphError("say which question: -n N or -i ID")
        if as_json:
            echo_json([{"n": index, "id": item.id, "title": item.issue.title,
                        "labels": list(item.labels), "question": item.question}
                       for index, item in enumerate(found, start=1)])
            return
        if not found:
            say("No open questions.")
            return
        for index, item in enumerate(found, start=1):
            labels = f" [{', '.join(item.labels)}]" if item.labels else ""
            say(f"{index}. {item.id}{labels} {untrusted.line(item.issue.title)}")
            for line in question_lines(item):
                say(f"   {line}")
        say("answer with `ralph msg -n N -a ANSWER` (-a N picks option N; -d dismisses)")
        return
    chosen = clarify.pick(found, number=number, issue_id=issue_id)
    if answer_text is not None:
        text = clarify.chosen_answer(chosen, answer_text)
        updated = run_async(clarify.answer(store, chosen.id, text))
        say(f"answered {chosen.id}" + (f" with {untrusted.line(text)}" if text != answer_text
                                       else "") + "; it is open again")
        say(f"next: {clarify.resume_hint(updated)}")
        return
    if dismiss:
        updated = run_async(clarify.dismiss(store, chosen.id))
        say(f"dismissed the question of {chosen.id}; it is open again")
        say(f"next: {clarify.resume_hint(updated)}")
        return
    issue = chosen.issue
    say(f"{issue.id} [P{issue.priority}] {untrusted.line(issue.title)}  ({issue.status})")
    if issue.labels:
        say("labels: " + ", ".join(untrusted.line(name) for name in issue.labels))
    say("")
    say("question:")
    for line in question_lines(chosen):
        say(f"  {line}")
    say("")
    say("notes:")
    say(untrusted.block(issue.notes.strip()))
    say("")
    say(f"answer with `ralph msg -i {issue.id} -a ANSWER`"
        + (" (-a N picks option N)" if clarify.question_options(chosen.question)[1] else "")
        + " or -d to dismiss")


def question_lines(question: clarify.Question) -> list[str]:
    """The whole question, escaped; its options numbered as ``-a N`` picks them."""
    heading, options = clarify.question_options(question.question)
    text = question.question
    if options:
        cut = clarify.options_start(text)
        text = text[:cut].rstrip()
    lines = [untrusted.line(line) for line in text.splitlines()] or [""]
    if options:
        lines.append("options" + (f" — {untrusted.line(heading)}" if heading else "") + ":")
        for option in options:
            lines.append(f"  {option.number}. {untrusted.line(option.title)}")
            lines.extend(f"     {untrusted.line(line)}" for line in option.body.splitlines()
                         if line.strip())
    return lines
