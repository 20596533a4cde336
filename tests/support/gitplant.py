"""Planting git redirections in a repository, as an agent in a sandbox would (issue 13):
shared by the gitguard unit tests (on the host) and the real-Podman tests (from inside).

Each attack is a shell script run with ``sh -c`` in the repository; ``MARK`` is the file
the planted command creates, so a test can tell whether host git ran it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

FSMONITOR = '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch {mark}; false"\\n'

_COMMON = (
    "mkdir .git/c && cp -r .git/HEAD .git/objects .git/refs .git/c/ && mkdir .git/c/hooks"
    " && printf '" + FSMONITOR + "' > .git/c/config"
    " && printf '#!/bin/sh\\ntouch {mark}.hook\\n' > .git/c/hooks/pre-commit"
    " && chmod +x .git/c/hooks/pre-commit")
"""A common directory of the agent's: config with core.fsmonitor, a pre-commit hook."""

NESTED = {"nested": "sub", "nested-in-node_modules": "node_modules/evil",
          "nested-in-quarantine-name": "x.wrapix-quarantine-1/sub"}
"""Nested-repository attacks and where each plants its repository (the walk must find
it wherever it is: a name the walk skipped would hide it)."""
ATTACKS = {
    "commondir": _COMMON + " && echo c > .git/commondir",
    **{name: (
        f"mkdir -p {sub} && (cd {sub} && git init -q && git commit -q --allow-empty -m sub"
        " && printf '" + FSMONITOR + f"' >> .git/config) && git add {sub}")
       for name, sub in NESTED.items()},
    "worktree": (  # the host's git run in w/ uses .git/c
        _COMMON + " && mkdir -p .git/worktrees/w w && cp .git/HEAD .git/worktrees/w/"
        " && echo ../../c > .git/worktrees/w/commondir"
        " && echo ../w/.git > .git/worktrees/w/gitdir"
        " && echo 'gitdir: ../.git/worktrees/w' > w/.git"),
    "config.worktree": "printf '" + FSMONITOR + "' > .git/config.worktree",
}


def attack(name: str, mark: str) -> str:
    return ATTACKS[name].replace("{mark}", mark)


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Host git in ``repo`` with a fixed identity and no global config."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True,
                          text=True, check=check, timeout=60)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / "README").write_text("hello\n")
    git(path, "add", "README")
    git(path, "commit", "-q", "-m", "init")
    return path
