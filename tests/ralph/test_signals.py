"""Signals come from the final result only; plain output is judged by its last lines."""

from __future__ import annotations

import json

import pytest

from wrapix_core.ralph.signals import (
    OutputReader,
    Signal,
    find_line_signal,
    find_signal,
    readable,
    strip_terminal,
)


def record(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, **fields})


def result(text: str, **fields: object) -> str:
    return record("result", **{"subtype": "success", "is_error": False, "result": text,
                               **fields})


def assistant(text: str) -> str:
    return record("assistant", message={"content": [{"type": "text", "text": text}]})


@pytest.mark.parametrize(("text", "expected"), [
    # at the start of a line
    ("Done.\n\nWORK_COMPLETE", Signal("WORK_COMPLETE")),
    ("READY_COMPLETE", Signal("READY_COMPLETE")),
    ("RALPH_BLOCKED: the database is down", Signal("RALPH_BLOCKED", "the database is down")),
    ("Hmm.\nRALPH_CLARIFY: Postgres or SQLite?\nEither works for me.",
     Signal("RALPH_CLARIFY", "Postgres or SQLite?\nEither works for me.")),
    ("RALPH_BLOCKED:", Signal("RALPH_BLOCKED", "(no reason given)")),
    # mid-line, inline at the end of a sentence
    ("Implemented and tested it. WORK_COMPLETE", Signal("WORK_COMPLETE")),
    ("All tests pass, so WORK_COMPLETE.", Signal("WORK_COMPLETE")),
    ("The plan is written: READY_COMPLETE!", Signal("READY_COMPLETE")),
    ("I cannot go on. RALPH_BLOCKED: the API key is missing",
     Signal("RALPH_BLOCKED", "the API key is missing")),
    ("One thing first — RALPH_CLARIFY: which database?",
     Signal("RALPH_CLARIFY", "which database?")),
    # inside markdown decoration
    ("**WORK_COMPLETE**", Signal("WORK_COMPLETE")),
    ("Done: `WORK_COMPLETE`", Signal("WORK_COMPLETE")),
    ("> _WORK_COMPLETE_", Signal("WORK_COMPLETE")),
    ("## WORK_COMPLETE", Signal("WORK_COMPLETE")),
    ("**RALPH_CLARIFY:** Postgres or SQLite?", Signal("RALPH_CLARIFY", "Postgres or SQLite?")),
    ("**RALPH_BLOCKED**: no network", Signal("RALPH_BLOCKED", "no network")),
    # several in one message: the last wins
    ("READY_COMPLETE, then WORK_COMPLETE", Signal("WORK_COMPLETE")),
    ("WORK_COMPLETE\nRALPH_CLARIFY: wait, which one?", Signal("RALPH_CLARIFY", "wait, which one?")),
    ("RALPH_CLARIFY: which one?\nRALPH_BLOCKED: no answer possible",
     Signal("RALPH_BLOCKED", "no answer possible")),
    # ... but a reason or question runs to the end: a signal inside it is its text
    ("RALPH_BLOCKED: the test expects WORK_COMPLETE output",
     Signal("RALPH_BLOCKED", "the test expects WORK_COMPLETE output")),
    ("RALPH_CLARIFY: should I still say WORK_COMPLETE when a test is flaky?",
     Signal("RALPH_CLARIFY", "should I still say WORK_COMPLETE when a test is flaky?")),
    # longer identifiers are not signals
    ("WORK_COMPLETED", None),
    ("NOT_WORK_COMPLETE", None),
    ("WORK_COMPLETE_SOON and XWORK_COMPLETE", None),
    ("RALPH_BLOCKED_ON: x", None),
    ("RALPH_CLARIFY without a colon", None),
    ("", None),
])
def test_find_signal(text: str, expected: Signal | None) -> None:
    assert find_signal(text) == expected


def test_only_the_final_result_counts_not_the_transcript() -> None:
    reader = OutputReader()
    for line in (record("system", subtype="init"), assistant("WORK_COMPLETE"),
                 assistant("RALPH_BLOCKED: nope"), result("RALPH_CLARIFY: which db?")):
        reader.feed(line)
    assert reader.final().source == "result"
    assert reader.signal() == Signal("RALPH_CLARIFY", "which db?")


def test_stream_json_without_a_result_has_no_signal() -> None:
    reader = OutputReader()
    reader.feed(assistant("WORK_COMPLETE"))
    assert reader.final().source == "none"
    assert reader.signal() is None


def test_the_last_result_record_wins() -> None:
    reader = OutputReader()
    reader.feed(result("WORK_COMPLETE"))
    reader.feed(result("no signal here"))
    assert reader.signal() is None


def test_error_results_are_reported() -> None:
    reader = OutputReader()
    reader.feed(result("", subtype="error_max_turns", is_error=True))
    final = reader.final()
    assert final.is_error and final.subtype == "error_max_turns"


def test_plain_output_is_judged_by_its_last_lines() -> None:
    reader = OutputReader()
    reader.feed("WORK_COMPLETE")  # early, scrolled out of the last lines
    for number in range(6):
        reader.feed(f"working {number}")
    assert reader.signal() is None
    reader.feed("\x1b[32mWORK_COMPLETE\x1b[0m")
    assert reader.signal() == Signal("WORK_COMPLETE")


def test_non_record_json_lines_count_as_plain() -> None:
    reader = OutputReader()
    reader.feed('{"not": "a record"}')
    reader.feed("WORK_COMPLETE")
    assert reader.final().source == "plain"
    assert reader.signal() == Signal("WORK_COMPLETE")


def test_line_signals_in_interactive_transcripts() -> None:
    prompt_echo = "end your final message with the word INTERVIEW_COMPLETE as its last line"
    assert not find_line_signal(prompt_echo, "INTERVIEW_COMPLETE")
    assert find_line_signal(prompt_echo + "\n⏺ INTERVIEW_COMPLETE\n", "INTERVIEW_COMPLETE")
    assert find_line_signal(strip_terminal("\x1b[1mINTERVIEW_COMPLETE\x1b[0m\r\n"),
                            "INTERVIEW_COMPLETE")


def test_readable_lines() -> None:
    tool = record("assistant", message={"content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "name": "Bash", "input": {"command": "ls -la"}}]})
    assert readable(tool) == ["Let me look.", '→ Bash {"command": "ls -la"}']
    assert readable(result("All done", num_turns=3, duration_ms=1500)) == [
        "· result: success, 3 turns, 1.5s", "All done"]
    assert readable(record("user", message={})) == []
    assert readable("plain \x1b[31mred\x1b[0m") == ["plain red"]
