"""Build progress on a terminal: other programs' output, escaped."""

from __future__ import annotations

import pytest

from wrapix_core.cli import progress
from wrapix_core.image.progress import BuildEvent, parse

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


def test_notes_stay_on_screen_in_a_pipe_and_on_a_terminal(
        capsys: pytest.CaptureFixture[str]) -> None:
    """What wrapix decided (making a base, and why) is printed whole, not only as the
    bar's passing detail; quoted text in it is escaped like any other line."""
    note = BuildEvent("building a Debian bookworm base … because \x1b[2Jno registry",
                      note=True)
    with progress.build_progress("image") as report:
        report(note)
        report(BuildEvent("I: downloading packages"))  # plain output: not in a pipe
    err = capsys.readouterr().err
    assert "building a Debian bookworm base" in err and "\x1b" not in err
    assert "downloading" not in err
    bar = progress._RichBar("image")
    try:
        with bar.progress.console.capture() as captured:
            bar(note)
        assert "because \\x1b[2Jno registry" in captured.get()
    finally:
        bar.close()
