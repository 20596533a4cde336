"""Running host git in a repository a sandbox writes (a workspace, a session's clone).

Such a repository is hostile to the host: its configuration, hooks and attributes may
have been planted to run commands. Git runs here only with the options that keep a
repository's own settings from running anything (no fsmonitor, no hooks, no pager, no
optional locks, no terminal prompt), with a timeout, and never through a shell. Callers
that diff also pass ``--no-ext-diff --no-textconv --no-color`` (see
:mod:`wrapix_core.gitdiff`), so no external diff driver or text conversion runs either.
Planted redirections (``commondir``, ``config.worktree``) are detected separately by
:mod:`wrapix_core.sandbox.gitguard`.
"""

from __future__ import annotations

import os
from pathlib import Path

from wrapix_core import proc

SAFE_GIT = ("git", "--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
            "-c", "core.pager=cat")
TIMEOUT = 30.0


def safe_env() -> dict[str, str]:
    """The environment git runs with here: no locks taken for reading, no prompts, no pager."""
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat", "PAGER": "cat"}


def argv(repo: Path | str, *args: str) -> list[str]:
    """``git -C repo ARGS`` with the safe options."""
    return [*SAFE_GIT, "-C", str(repo), *args]


async def run(repo: Path | str, *args: str, timeout: float = TIMEOUT,
              check: bool = True) -> proc.Completed:
    """Run git safely in ``repo`` (see the module doc); errors as :mod:`wrapix_core.proc`'s."""
    return await proc.run(argv(repo, *args), env=safe_env(), timeout=timeout, check=check)


def run_sync(repo: Path | str, *args: str, timeout: float = TIMEOUT,
             check: bool = True, spool: bool = False) -> proc.Completed:
    """Blocking twin of :func:`run` (threads, CLIs); ``spool``: see :func:`proc.run_sync`."""
    return proc.run_sync(argv(repo, *args), env=safe_env(), timeout=timeout, check=check,
                         spool=spool)
