"""Running a container runtime's command line (``podman``, Apple's ``container``): one
translation of its process errors into the runtime errors people read.

Not installed, hung and refused become :class:`RuntimeMissing`, :class:`RuntimeHung` and
:class:`RuntimeFailed`, each naming the runtime, the subcommand and what to do. This sits
below both :mod:`wrapix_core.sandbox` (which runs containers) and :mod:`wrapix_core.image`
(which builds images with Podman), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wrapix_core import proc
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


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class RuntimeCli:
    """How one runtime's command line is named in messages and what they advise."""

    program: str
    """How messages name it (``podman``, ``container``)."""
    missing: str
    """The message when it is not installed."""
    install_hint: str
    hung_hint: str
    clean: Callable[[str], str] = _as_is
    """Drops the runtime's own noise (warnings) from what it printed, before quoting it."""

    async def run(self, executable: str, args: Sequence[str], *, timeout: float,
                  check: bool = True, env: dict[str, str] | None = None) -> proc.Completed:
        """Run ``executable ARGS``, its failures as runtime errors (a non-zero exit only
        with ``check``)."""
        try:
            return await proc.run([executable, *args], timeout=timeout, check=check, env=env)
        except proc.CommandNotFound:
            raise RuntimeMissing(self.missing, self.install_hint) from None
        except proc.CommandTimeout as exc:
            raise RuntimeHung(f"{self.program} did not answer within {exc.timeout:g}s "
                              f"(`{self.program} {args[0]}`)", self.hung_hint) from None
        except proc.CommandFailed as exc:
            detail = proc.last_lines(self.clean(exc.stderr or exc.stdout), 2)
            raise RuntimeFailed(f"`{self.program} {args[0]}` failed: "
                                f"{detail or f'exit {exc.returncode}'}") from None


PODMAN_INSTALL_HINT = ("install rootless Podman (Debian: apt install podman runc uidmap "
                       "slirp4netns) or set sandbox.podman to its path")
CGROUP_V1_WARNING = "Resource limits are not supported and ignored on cgroups V1 rootless"


def without_noise(stderr: str) -> str:
    """Podman stderr minus its warnings, so an error message shows the error itself
    (the cgroup v1 one wrapix reports once, in its own words)."""
    return "\n".join(line for line in stderr.splitlines()
                     if CGROUP_V1_WARNING not in line and "level=warning" not in line)


def podman_cli(executable: str) -> RuntimeCli:
    return RuntimeCli(program="podman", missing=f"podman ({executable}) is not installed",
                      install_hint=PODMAN_INSTALL_HINT,
                      hung_hint="check `podman info`; a stuck podman may need "
                                "`podman system migrate`",
                      clean=without_noise)


async def call_podman(executable: str, args: Sequence[str], *, timeout: float,
                      check: bool = True, env: dict[str, str] | None = None) -> proc.Completed:
    """Run ``podman ARGS`` (see :meth:`RuntimeCli.run`)."""
    return await podman_cli(executable).run(executable, args, timeout=timeout, check=check,
                                            env=env)
