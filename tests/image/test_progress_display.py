"""Build progress on a terminal: other programs' output, escaped."""

from __future__ import annotations

import pytest

from wrapix_core.cli import progress
from wrapix_core.image.progress import parse

HOSTILE = "STEP 2/9: RUN npm i \x1b]52;c;b3duZWQ=\x07\x1b[2J"


def test_piped_progress_lines_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.build_progress("building img") as report:
        report(parse(HOSTILE))
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]52;c;b3duZWQ=" in err and err.count("\n") == 1


def test_the_progress_bar_shows_escaped_detail() -> None:
    bar = progress._RichBar("building \x1b[31mimg")
    try:
        bar(parse(HOSTILE))
        task = bar.progress.tasks[0]
        assert "\x1b" not in task.description and "\x1b" not in task.fields["detail"]
        assert (task.completed, task.total) == (1, 9)
    finally:
        bar.close()
