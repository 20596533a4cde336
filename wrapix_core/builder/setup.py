"""The privileged, one-time host setup: routes (macOS) and root's ssh trust of the builder.

Each change is a :class:`Step`: a sentence and the exact argv (``sudo …``, or bare when
already root) plus any input it writes, so ``setup`` can print every change before it
asks, and ``--dry-run`` prints them without asking. Steps are safe to repeat; a failed
step stops the run and says which steps were made.

- routes (macOS only): Apple's container network is routed through its bridge
  (``route add -net SUBNET -interface bridge100``), replacing a stale route;
- ssh: root's nix-daemon is the one that connects, so root gets the ``wrapix-builder``
  ssh config entry (``/etc/ssh/ssh_config.d/wrapix-builder.conf``) and the builder's
  host key in its ``known_hosts``; a last check logs in as root would.
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wrapix_core import proc
from wrapix_core.builder import config as builder_config
from wrapix_core.builder.errors import SetupError
from wrapix_core.builder.keys import Keys
from wrapix_core.builder.status import HOST_ALIAS
from wrapix_core.settings import BuilderSettings

SSH_CONFIG_FILE = Path("/etc/ssh/ssh_config.d/wrapix-builder.conf")
STEP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Step:
    description: str
    argv: tuple[str, ...]
    input: str | None = None
    may_fail: bool = False
    """A failure is expected when there is nothing to undo (e.g. no stale route)."""
    check: bool = False
    """Changes nothing: verifies the steps before it."""

    def render(self, number: int) -> str:
        lines = [f"{number}. {self.description}", f"   $ {proc.describe(self.argv)}"]
        if self.input is not None:
            lines.append("     with this input:")
            lines += [f"       {line}" for line in self.input.splitlines()]
        return "\n".join(lines)


Runner = Callable[[Step], Awaitable[proc.Completed]]


def sudo_prefix(euid: int | None = None) -> tuple[str, ...]:
    return () if (os.geteuid() if euid is None else euid) == 0 else ("sudo",)


def root_home() -> Path:
    try:
        return Path(pwd.getpwnam("root").pw_dir)
    except KeyError:
        return Path("/root")


def route_steps(subnet: str, interface: str = "bridge100",
                sudo: Sequence[str] = ("sudo",)) -> list[Step]:
    """macOS: route the container network through the container bridge."""
    return [
        Step(f"Remove a stale route for the container network {subnet} (if any)",
             (*sudo, "route", "-n", "delete", "-net", subnet), may_fail=True),
        Step(f"Route the container network {subnet} through {interface}",
             (*sudo, "route", "-n", "add", "-net", subnet, "-interface", interface)),
    ]


def ssh_steps(settings: BuilderSettings, keys: Keys, *, home: Path | None = None,
              sudo: Sequence[str] = ("sudo",), verify: bool = True,
              config_file: Path = SSH_CONFIG_FILE) -> list[Step]:
    """Root trusts the builder: ssh config entry, pinned host key, and a check."""
    ssh_dir = (home or root_home()) / ".ssh"
    known = ssh_dir / "known_hosts"
    steps = [
        Step(f"Create root's ssh directory {ssh_dir} (mode 0700) if it is missing",
             (*sudo, "install", "-d", "-m", "0700", str(ssh_dir))),
        Step(f"Make sure root's {known} exists",
             (*sudo, "touch", str(known))),
        Step(f"Remove old '{HOST_ALIAS}' host keys from root's known_hosts",
             (*sudo, "ssh-keygen", "-R", HOST_ALIAS, "-f", str(known))),
        Step("Pin the builder's host key for root (nix-daemon connects as root)",
             (*sudo, "tee", "-a", str(known)), input=keys.known_hosts_line()),
        Step(f"Create {config_file.parent} if it is missing",
             (*sudo, "install", "-d", "-m", "0755", str(config_file.parent))),
        Step(f"Install the ssh config entry '{HOST_ALIAS}' for every user, root included",
             (*sudo, "tee", str(config_file)),
             input=builder_config.ssh_config(settings, keys)),
        Step(f"Make {config_file} readable (mode 0644)",
             (*sudo, "chmod", "0644", str(config_file))),
    ]
    if verify:
        steps.append(Step("Check that root reaches the builder as nix-daemon will",
                          (*sudo, "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                           HOST_ALIAS, "true"), check=True))
    return steps


def render(steps: Sequence[Step]) -> str:
    return "\n".join(step.render(number) for number, step in enumerate(steps, 1))


def require_sudo(sudo: Sequence[str]) -> None:
    """``setup`` without sudo is a clear error, before anything runs."""
    if sudo and shutil.which(sudo[0]) is None:
        raise SetupError("setup makes privileged changes and needs sudo, which is not "
                         "installed",
                         "run the commands `wrapix-builder setup --dry-run` prints as root "
                         "yourself")


async def run_in_terminal(step: Step) -> proc.Completed:
    return await proc.run_in_terminal(step.argv, timeout=STEP_TIMEOUT, input=step.input)


async def run_steps(steps: Sequence[Step], *, runner: Runner = run_in_terminal,
                    on_step: Callable[[int, Step], None] | None = None) -> None:
    """Run ``steps`` in order; stop at the first failure with a message saying which
    steps were already made."""
    for number, step in enumerate(steps, 1):
        if on_step is not None:
            on_step(number, step)
        try:
            await runner(step)
        except proc.CommandFailed as exc:
            if step.may_fail:
                continue
            detail = proc.last_lines(exc.stderr or exc.stdout, 2) or f"exit {exc.returncode}"
            if step.argv[:1] == ("sudo",) and ("sudoers" in detail or "password" in detail):
                raise SetupError(f"sudo refused step {number} ({step.description}): {detail}",
                                 "setup needs an account that may use sudo; or run the "
                                 "printed commands as root") from None
            made = f"steps 1-{number - 1} were made" if number > 1 else "nothing was changed"
            raise SetupError(f"setup step {number} failed ({step.description}): {detail}",
                             f"{made}; fix the cause and run setup again (every step is "
                             "safe to repeat)") from None
        except proc.CommandNotFound as exc:
            raise SetupError(f"setup step {number} needs {exc.argv[0]}, which is not installed",
                             "install it, or run the printed commands by hand") from None
        except proc.CommandTimeout as exc:
            raise SetupError(f"setup step {number} ({step.description}) did not finish "
                             f"within {exc.timeout:g}s", "run it by hand to see why") from None
