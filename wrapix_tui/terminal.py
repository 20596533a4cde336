"""Handing the terminal to another program (``podman attach``/``exec``) and taking it back.

The app is suspended (``App.suspend``: Textual leaves application mode and restores the
terminal as it found it), the program runs in the foreground with the real TTY, and the
app resumes when it exits. The event loop is blocked meanwhile on purpose: nothing can
draw over the other program, and everything periodic pauses by itself.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from textual.app import App, SuspendNotSupported

from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import tty


class TerminalUnavailable(WrapixError):
    """This app cannot hand its terminal over (headless, or Textual web)."""


def run_in_terminal(app: App[Any], argv: Sequence[str], intro: str, *,
                    redraw: bool = False, running: Sequence[str] | None = None) -> int:
    """Run ``argv`` on the app's terminal; returns its exit code.

    ``intro`` is printed first (e.g. the detach keys), where the person will see it. The
    terminal is given back as it was, and ``redraw`` makes an attached program draw its
    screen: :func:`wrapix_core.sandbox.tty.hand_over`, as in the CLI.
    """
    try:
        with app.suspend():
            sys.stdout.write(f"\r\n{intro}\r\n")
            sys.stdout.flush()
            try:
                return tty.hand_over(argv, redraw_after=redraw, running=running)
            except FileNotFoundError:
                raise WrapixError(f"{argv[0]} is not installed", "install it or fix the "
                                  "sandbox.podman setting") from None
    except SuspendNotSupported:
        raise TerminalUnavailable(
            "this terminal cannot be handed over to another program",
            f"run `{' '.join(argv)}` in a terminal yourself") from None
