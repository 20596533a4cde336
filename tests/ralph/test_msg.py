"""`ralph msg`: the clarify inbox — list, show, answer, dismiss — and resuming after it."""

from __future__ import annotations

import json

from tests.ralph.support import Workspace, complete, final


def test_answering_a_question_reopens_the_issue_and_the_next_step_takes_it(
        ws: Workspace) -> None:
    issue = ws.create("Choose the cache")
    other = ws.create("Unrelated", priority=4)
    ws.scenario(final("RALPH_CLARIFY: Redis or in-process?", "Choose the cache"),
                complete("Choose the cache"), complete("Unrelated"))
    assert ws.ralph("step").returncode == 0
    listed = ws.ralph("msg")
    assert listed.returncode == 0
    assert f"1. {issue} [rl-demo] Choose the cache" in listed.stdout
    assert "Redis or in-process?" in listed.stdout
    as_json = json.loads(ws.ralph("msg", "--json").stdout)
    assert [(item["n"], item["id"]) for item in as_json] == [(1, issue)]
    shown = ws.ralph("msg", "-n", "1")
    assert "Question from the agent" in shown.stdout and "Redis or in-process?" in shown.stdout
    answered = ws.ralph("msg", "-n", "1", "-a", "In-process, with an LRU of 1000")
    assert answered.returncode == 0, answered.stderr
    assert f"answered {issue}; it is open again" in answered.stdout
    assert "resume with `ralph step demo`" in answered.stdout
    stored = ws.issue(issue)
    assert stored["status"] == "open"
    assert "ralph:clarify" not in stored["labels"]
    assert "In-process, with an LRU of 1000" in stored["notes"]
    assert ws.ralph("msg").stdout.strip() == "No open questions."
    done = ws.ralph("step")
    assert done.returncode == 0
    assert ws.worked() == [issue, issue]  # the same issue, taken again first
    assert ws.issue(issue)["status"] == "closed"
    assert ws.issue(other)["status"] == "open"


def test_dismiss_and_errors(ws: Workspace) -> None:
    issue = ws.create("Asks", labels=("rl-demo", "ralph:clarify"))
    ws.tasks("update", issue, "--append-notes", "Question: is this needed?")
    dismissed = ws.ralph("msg", "-i", issue, "-d")
    assert dismissed.returncode == 0
    stored = ws.issue(issue)
    assert "ralph:clarify" not in stored["labels"]
    assert "work around the question" in stored["notes"]
    missing = ws.ralph("msg", "-i", issue, "-a", "late")
    assert missing.returncode == 2
    assert f"{issue} has no open question" in missing.stderr
    assert ws.ralph("msg", "-n", "3").returncode == 2
    both = ws.ralph("msg", "-n", "1", "-a", "x", "-d")
    assert both.returncode == 2 and "not both" in both.stderr
    assert "Traceback" not in both.stderr


def test_questions_filter_by_label(ws: Workspace) -> None:
    ws.create("Demo question", labels=("rl-demo", "ralph:clarify"))
    other = ws.create("Other question", labels=("rl-other", "ralph:clarify"))
    listed = json.loads(ws.ralph("msg", "--json", "--label", "other").stdout)
    assert [item["id"] for item in listed] == [other]
    assert len(json.loads(ws.ralph("msg", "--json").stdout)) == 2


def test_hostile_ids_and_notes_are_escaped_everywhere(ws: Workspace) -> None:
    hostile = {"id": "demo-\x1b]0;owned\x07", "title": "T\x1b[2J", "status": "open",
               "priority": 1, "labels": ["rl-demo", "ralph:clarify"],
               "notes": "Question: \x1b[31mred?\u202e", "created_at": "2026-01-01T00:00:00Z"}
    with (ws.root / ".beads" / "issues.jsonl").open("a") as handle:
        handle.write(json.dumps(hostile) + "\n")
    for args in (["msg"], ["msg", "-n", "1"], ["status"], ["step"], ["board"]):
        done = ws.ralph(*args)
        assert "\x1b" not in done.stdout + done.stderr, args
        assert "\u202e" not in done.stdout, args
    assert "demo-\\x1b]0;owned\\x07" in ws.ralph("msg").stdout
