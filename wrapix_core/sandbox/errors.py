"""Runtime failures as people should read them (the runtime CLI's own, from
:mod:`wrapix_core.runtime_cli`, and the sandbox's)."""

from __future__ import annotations

from wrapix_core.errors import WrapixError
from wrapix_core.runtime_cli import RuntimeFailed, RuntimeGarbage, RuntimeHung, RuntimeMissing

__all__ = ["RuntimeFailed", "RuntimeGarbage", "RuntimeHung", "RuntimeMissing", "SandboxNotFound"]


class SandboxNotFound(WrapixError):
    """No container by that name."""
