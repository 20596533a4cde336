"""The hardening checks run from inside a real sandbox, whatever started it.

One copy for every launcher that must give the same guarantees: ``wrapix run`` (Podman
flags) and the Pod manifest of ``wrapix run --emit kube`` played by ``podman kube play``.
Each takes ``run``: a function running a ``sh -c`` script inside the sandbox.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

Exec = Callable[[str], subprocess.CompletedProcess[str]]

MEMORY_LIMIT = 4096 * 1024 * 1024
"""The default ``sandbox.memory`` (4096m) in bytes, as the runtime records it."""


def assert_unprivileged(run: Exec, uid: int) -> None:
    """Runs as ``uid`` (never root) with no capabilities and no way to gain privileges."""
    done = run("id -u; grep -E '^Cap(Eff|Prm|Bnd)' /proc/1/status; "
               "grep NoNewPrivs /proc/self/status")
    assert done.returncode == 0, done.stderr
    first, *status = done.stdout.strip().splitlines()
    assert int(first) == uid != 0
    fields = dict(line.split(":\t") for line in status)
    assert int(fields["CapEff"], 16) == 0
    assert int(fields["CapPrm"], 16) == 0
    assert int(fields["CapBnd"], 16) == 0  # not even regainable: every capability dropped
    assert fields["NoNewPrivs"].strip() == "1"


def assert_git_protected(run: Exec, workspace: Path) -> None:
    """``.git/hooks`` and ``.git/config`` are read-only; the rest of .git and the
    workspace stay writable; the host's copies are untouched."""
    config = (workspace / ".git/config").read_text()
    done = run("cd /workspace; "
               "touch .git/hooks/pre-commit 2>/dev/null && echo hooks-writable; "
               "echo '[x]' >> .git/config 2>/dev/null && echo config-writable; "
               "echo ok > .git/other && echo git-dir-writable; "
               "mkdir -p src && echo ok > src/main.txt && echo workspace-writable")
    assert "hooks-writable" not in done.stdout
    assert "config-writable" not in done.stdout
    assert "git-dir-writable" in done.stdout
    assert "workspace-writable" in done.stdout
    assert not (workspace / ".git/hooks/pre-commit").exists()
    assert (workspace / ".git/config").read_text() == config


def assert_protected_paths_hold(run: Exec, workspace: Path) -> None:
    """Renaming the directory that holds a read-only path, then writing a fresh copy,
    would hand the host the agent's .git/config; so would replacing wrapix.toml or
    Ralph's .wrapix/ (all read on the host)."""
    config = (workspace / ".git/config").read_text()
    settings = (workspace / "wrapix.toml").read_text()
    done = run("cd /workspace; "
               "mv .git .git-old 2>/dev/null && echo git-renamed; "
               "mv .git/hooks .git/hooks-old 2>/dev/null && echo hooks-renamed; "
               "echo x >> wrapix.toml 2>/dev/null && echo toml-writable; "
               "mv wrapix.toml old.toml 2>/dev/null && echo toml-renamed; "
               "rm -f wrapix.toml 2>/dev/null; test -e wrapix.toml || echo toml-gone; "
               "mkdir -p .wrapix/ralph 2>/dev/null && echo wrapix-writable; "
               "mv .wrapix .wrapix-old 2>/dev/null && echo wrapix-renamed; true")
    assert done.returncode == 0, done.stderr
    for escape in ("git-renamed", "hooks-renamed", "toml-writable", "toml-renamed",
                   "toml-gone", "wrapix-writable", "wrapix-renamed"):
        assert escape not in done.stdout
    assert (workspace / ".git/config").read_text() == config
    assert (workspace / "wrapix.toml").read_text() == settings
    assert not (workspace / ".git-old").exists()
    assert (workspace / ".wrapix").is_dir()
    assert not any((workspace / ".wrapix").iterdir())


def assert_cpu_and_memory_applied(host_config: dict[str, object]) -> None:
    """The runtime applies the default limits (``podman inspect``'s HostConfig)."""
    assert host_config["Memory"] == MEMORY_LIMIT
    nano_cpus = host_config["NanoCpus"]
    assert isinstance(nano_cpus, int) and nano_cpus > 0
