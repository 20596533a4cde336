"""Ralph's expected failures (each names the thing, says what is wrong and what to do)."""

from __future__ import annotations

from wrapix_core.errors import WrapixError


class RalphError(WrapixError):
    """A Ralph command cannot go on; nothing was changed unless the message says so."""


class NotStarted(RalphError):
    """No Ralph state for the workspace or the label."""


class TemplateError(RalphError):
    """A prompt template has an unknown or missing placeholder, or renders too big."""


class LockTimeout(RalphError):
    """Another Ralph process holds a lock for too long."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint, exit_code=1)
