"""Host git for sessions: on the project (the user's own repository) and on a session's
repository (written by an agent: hostile).

Both go through :mod:`wrapix_core.safegit` (no hooks, no fsmonitor, no pager), with a
timeout and never a shell. A session's repository is also addressed explicitly
(``--git-dir``, ``--work-tree`` and ``GIT_COMMON_DIR``), so a ``.git/commondir`` or
``.git`` file an agent planted cannot point git elsewhere; replace refs and grafts are
ignored (they would make git show other content than the objects hold), and the user's
and system git configuration are left out (a planted ``.gitattributes`` could select a
filter or textconv driver defined there). The session's ``.git/config`` is written by
wrapix and read-only in its sandbox.
"""

from __future__ import annotations

import os
from pathlib import Path

from wrapix_core import proc
from wrapix_core.errors import WrapixError
from wrapix_core.safegit import SAFE_GIT, safe_env

TIMEOUT = 60.0
"""Seconds one git command may take (a checkout of a big tree, a fetch)."""
_HOSTILE = ("-c", "core.untrackedCache=false", "-c", "status.submoduleSummary=false",
            "-c", "diff.ignoreSubmodules=all", "-c", "core.sshCommand=false",
            "-c", "protocol.allow=never", "-c", "protocol.file.allow=always")
_NO_REWRITE = {"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull,
               "GIT_EDITOR": "true", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
_ISOLATED = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


class GitFailed(WrapixError):
    """A git command wrapix ran failed; the message carries git's own words."""

    exit_code = 1


def _run(argv: list[str], env: dict[str, str], *, cwd: Path | None, check: bool,
         input: str | None, timeout: float) -> proc.Completed:
    try:
        done = proc.run_sync(argv, timeout=timeout, env=env, cwd=cwd, check=False,
                             input=input)
    except proc.ProcError as error:
        raise GitFailed(str(error)) from None
    if check and done.returncode != 0:
        words = proc.last_lines(done.stderr or done.stdout, 3) or f"exit {done.returncode}"
        raise GitFailed(f"git {' '.join(argv[len(SAFE_GIT):])[:200]} failed: {words}")
    return done


def project(repo: Path, *args: str, check: bool = True, input: str | None = None,
            timeout: float = TIMEOUT, env: dict[str, str] | None = None) -> proc.Completed:
    """git in the user's own repository (their configuration and identity apply)."""
    return _run([*SAFE_GIT, "-C", str(repo), *args],
                {**safe_env(), **_NO_REWRITE, **(env or {})}, cwd=None, check=check,
                input=input, timeout=timeout)


def session(path: Path, *args: str, check: bool = True, input: str | None = None,
            timeout: float = TIMEOUT, env: dict[str, str] | None = None,
            isolated: bool = True) -> proc.Completed:
    """git in a session's repository at ``path`` (see the module docstring).
    ``isolated=False`` keeps the user's git configuration: only for work on the
    project's own content before any agent touched the session (its first checkout)."""
    git_dir = path / ".git"
    variables = {**safe_env(), **(_ISOLATED if isolated else {}), **_NO_REWRITE,
                 "GIT_DIR": str(git_dir),
                 "GIT_COMMON_DIR": str(git_dir), "GIT_WORK_TREE": str(path),
                 **(env or {})}
    return _run([*SAFE_GIT, *_HOSTILE, *args], variables, cwd=path, check=check,
                input=input, timeout=timeout)


def rev(run_result: proc.Completed) -> str | None:
    """The object id a ``rev-parse --verify --quiet`` printed, or None."""
    text = run_result.stdout.strip()
    if run_result.returncode != 0 or not text:
        return None
    return text.split()[0]


def check_repository(path: Path, name: str) -> None:
    """Refuse session ``name``'s repository at ``path`` when git redirection was planted
    in it (:func:`wrapix_core.sandbox.gitguard.quick`: a few ``lstat`` calls), before a
    git that finds the repository the usual way (a fetch, a diff) runs there."""
    from wrapix_core.sandbox import gitguard

    findings = gitguard.quick(str(path))
    if findings:
        raise WrapixError(f"session {name}: git redirection was planted in its repository: "
                          f"{gitguard.summary(findings)}",
                          f"inspect it with `wrapix audit {path}`; wrapix runs no git there "
                          "until then")
