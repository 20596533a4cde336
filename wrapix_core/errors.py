"""User-facing errors.

Every failure a user can cause or fix is a :class:`WrapixError`: it names the thing,
says what is wrong, and says what to do. The CLIs print it as one line and exit with
its code; the TUI shows it as a banner. Anything else is a bug and may traceback.
"""

from __future__ import annotations


class WrapixError(Exception):
    """An expected failure with a message for people.

    ``exit_code`` 2 means bad input or a missing prerequisite (nothing was started);
    1 means an operation was attempted and failed.
    """

    exit_code: int = 2

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


class ConfigError(WrapixError):
    """A settings or profile file is invalid."""


class NotImplementedYet(WrapixError):
    """A documented command whose implementation has not landed yet."""

    def __init__(self, command: str):
        super().__init__(f"{command}: not implemented yet", exit_code=2)
