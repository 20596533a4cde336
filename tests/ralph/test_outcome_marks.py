"""One mark table for step outcomes: `ralph step`/`loop` lines and the TUI's board lines
(they were two tables that could drift)."""

from __future__ import annotations

import pytest

from wrapix_core.ralph.events import OUTCOME_MARKS, StepOutcome, StepResult, outcome_mark
from wrapix_tui.ralph_control import result_line


def test_every_outcome_has_a_mark() -> None:
    assert set(OUTCOME_MARKS) == set(StepOutcome)
    assert outcome_mark("not-an-outcome") == "·"


@pytest.mark.parametrize("outcome", list(StepOutcome))
def test_the_cli_and_the_board_mark_an_outcome_alike(
        outcome: StepOutcome, capsys: pytest.CaptureFixture[str]) -> None:
    from wrapix_core.cli.ralph.output import Printer
    from wrapix_core.ralph.events import StepEnded

    result = StepResult(outcome=outcome, label="demo", message="done it")
    Printer()(StepEnded(result))
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed == result_line(result) == f"{outcome_mark(outcome)} done it"
