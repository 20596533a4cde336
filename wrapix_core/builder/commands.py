"""The runtime-specific commands of the builder, behind one small interface.

The agent-sandbox :class:`~wrapix_core.sandbox.runtime.Runtime` covers inspect, stop,
remove and logs for both runtimes; creating the builder needs flags of its own, which
this chooses by runtime (Podman on Linux, Apple ``container`` on macOS) and runs
through :mod:`wrapix_core.proc` with the runtime's error types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import proc
from wrapix_core.builder import apple, podman
from wrapix_core.builder.keys import Keys
from wrapix_core.builder.podman import HelperMode
from wrapix_core.runtime_cli import without_noise
from wrapix_core.sandbox.errors import RuntimeFailed, RuntimeHung, RuntimeMissing
from wrapix_core.sandbox.runtime import Runtime
from wrapix_core.settings import BuilderSettings

INSTALL_HINTS = {
    "podman": "install rootless Podman (Debian: apt install podman runc uidmap slirp4netns) "
              "or set sandbox.podman to its path",
    "apple": "install Apple's container CLI (https://github.com/apple/container) on macOS 26+",
}


@dataclass(frozen=True)
class Commands:
    runtime: str
    """``podman`` or ``apple``."""
    executable: str
    settings: BuilderSettings
    timeout: float = 30.0

    @classmethod
    def for_runtime(cls, runtime: Runtime, settings: BuilderSettings) -> Commands:
        timeout = float(getattr(runtime, "timeout", 30.0))
        return cls(runtime.name, runtime.executable, settings, timeout)

    @property
    def apple(self) -> bool:
        return self.runtime == "apple"

    def run_argv(self, image: str, keys: Keys, store: Path) -> list[str]:
        if self.apple:
            return apple.run_argv(self.executable, self.settings, image, keys.share_directory,
                                  store)
        return podman.run_argv(self.executable, self.settings, image, keys, store)

    def helper_argv(self, image: str, store: Path, mode: HelperMode) -> list[str]:
        if self.apple:
            return apple.helper_argv(self.executable, self.settings, image, store, mode)
        return podman.helper_argv(self.executable, self.settings, image, store, mode)

    def remove_argv(self, name: str) -> list[str]:
        if self.apple:
            return apple.remove_argv(self.executable, name)
        return podman.remove_argv(self.executable, name)

    def missing(self) -> RuntimeMissing:
        what = "Apple's container CLI" if self.apple else f"podman ({self.executable})"
        return RuntimeMissing(f"{what} is not installed", INSTALL_HINTS["apple" if self.apple
                                                                        else "podman"])

    async def call(self, argv: Sequence[str], *, timeout: float | None = None,
                   check: bool = True) -> proc.Completed:
        """Run a runtime command; failures become the runtime's error types."""
        try:
            return await proc.run(argv, timeout=timeout or self.timeout, check=check)
        except proc.CommandNotFound:
            raise self.missing() from None
        except proc.CommandTimeout as exc:
            raise RuntimeHung(f"`{proc.describe(argv)}` did not answer within {exc.timeout:g}s",
                              f"check that {self.runtime} works (`{self.executable} info`)"
                              ) from None
        except proc.CommandFailed as exc:
            detail = proc.last_lines(without_noise(exc.stderr or exc.stdout), 2)
            raise RuntimeFailed(f"`{self.executable} {argv[1]}` failed: "
                                f"{detail or f'exit {exc.returncode}'}") from None

    async def image_id(self, image: str) -> str:
        """A stable identity of ``image`` (the store is re-initialised when it changes)."""
        if self.apple:
            done = await self.call(apple.image_inspect_argv(self.executable, image))
            return apple.image_digest(done.stdout) or image
        done = await self.call(podman.image_id_argv(self.executable, image))
        return done.stdout.strip() or image

    async def remove_quietly(self, name: str) -> None:
        """Remove ``name`` if it exists; never raises (used while cleaning up)."""
        with contextlib.suppress(proc.ProcError):
            await proc.run(self.remove_argv(name), timeout=self.timeout, check=False)
