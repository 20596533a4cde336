"""Running host git where a sandbox may have written: the one safe invocation.

A repository an agent wrote in is hostile to the host: git must not run what it planted
(hooks, ``core.fsmonitor``, a pager) nor take optional locks that race with it. Every
host git call on such a repository — Ralph's ``HEAD`` lookups, sessions' stats, diffs,
merges and fetches — goes through :data:`SAFE_GIT` and :func:`environment`, with a
timeout and never a shell. ``isolated`` also drops the user's and the system's git
configuration, whose filter and textconv drivers a planted ``.gitattributes`` could
otherwise select.
"""

from __future__ import annotations

import os

SAFE_GIT = ("git", "--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
            "-c", "core.pager=cat")
"""git with hooks, fsmonitor and the pager turned off, whatever a repository says."""


def environment(*, isolated: bool = False) -> dict[str, str]:
    """Variables layered over the environment of every safe git call."""
    env = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat",
           "PAGER": "cat", "GIT_EDITOR": "true", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    if isolated:
        env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return env
