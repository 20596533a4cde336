"""Runtime failures as people should read them."""

from __future__ import annotations

from wrapix_core.errors import WrapixError


class RuntimeMissing(WrapixError):
    """The container runtime is not installed."""


class RuntimeHung(WrapixError):
    """The runtime did not answer within its timeout (nothing was started)."""


class RuntimeGarbage(WrapixError):
    """The runtime answered something wrapix cannot read."""

    exit_code = 1


class RuntimeFailed(WrapixError):
    """The runtime refused an operation; the message carries its reason."""

    exit_code = 1


class SandboxNotFound(WrapixError):
    """No container by that name."""
