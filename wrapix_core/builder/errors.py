"""Builder failures as people should read them (each names the thing and what to do)."""

from __future__ import annotations

from wrapix_core.errors import WrapixError


class PortInUse(WrapixError):
    """The builder's SSH port is taken on 127.0.0.1 (nothing was created)."""


class StoreNotWritable(WrapixError):
    """The persistent store directory cannot be created or written (nothing was created)."""


class StoreInitFailed(WrapixError):
    """Copying the image's /nix into the store failed (the partial copy was removed)."""

    exit_code = 1


class BuilderNotUp(WrapixError):
    """The container started but SSH never answered; says which part did not come up."""

    exit_code = 1


class BuilderBusy(WrapixError):
    """Another start or stop of the builder is in progress (nothing was done)."""


class BuilderNotRunning(WrapixError):
    """A command needs the running builder and it is not."""


class BuilderImageMissing(WrapixError):
    """``builder.image`` names an image the runtime does not have."""


class SetupError(WrapixError):
    """A privileged setup step could not be made (or sudo is missing)."""
