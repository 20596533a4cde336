"""What changed since an earlier point of a label: the commit before its first step (for
``ralph check``) and the spec as the last ``ralph ready`` read it (for the next one).

The workspace is written by agents, so it is hostile to the host: git runs here only to
read ``HEAD``, through :mod:`wrapix_core.safegit` (nothing of the repository's own
configuration runs, a timeout, never a shell). The diff a reviewer reads is made by
the agent in its sandbox from the commit named in its prompt. The spec's earlier text is
a copy wrapix saved in ``.wrapix/ralph/state/`` (read-only in the sandbox), compared
without git.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from wrapix_core import safegit, workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.ralph.state import RalphPaths

GIT_TIMEOUT = 20.0
MAX_SPEC_BYTES = 512 * 1024
MAX_DIFF_CHARS = 16_000
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


async def head_commit(workspace: Path) -> str | None:
    """The workspace's ``HEAD`` commit id, or None (no git, no repository, no commit)."""
    if not (workspace / ".git").exists():
        return None
    try:
        done = await safegit.run(workspace, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                                 timeout=GIT_TIMEOUT, check=False)
    except (WrapixError, OSError):
        return None
    text = done.stdout.strip() if done.returncode == 0 else ""
    return text if _COMMIT.fullmatch(text) else None


def changes_hint(base: str | None, tasks: str, label: str) -> str:
    """How the reviewer sees what the loop changed (the ``{{CHANGES}}`` value)."""
    if base is not None and _COMMIT.fullmatch(base):
        return (f"the commits since the label's first step, `git log --oneline {base}..HEAD`, "
                f"and the whole change, `git diff {base}` (uncommitted work included; read it "
                "file by file with `git diff --stat` first when it is long).")
    return ("no commit was recorded before the label's first step (the workspace had no git "
            f"history then), so read the closed issues (`{tasks} list --label rl-{label} --all`"
            ") and the files they name.")


def spec_copy(paths: RalphPaths, label: str) -> Path:
    """Where the spec as the last ``ralph ready`` read it is kept."""
    return paths.label_file(label).with_suffix(".spec.md")


def read_workspace_text(anchor: Path, path: Path, limit: int = MAX_SPEC_BYTES) -> str | None:
    """A regular file's text below ``anchor`` (the workspace; at most ``limit`` bytes), or
    None. Text read here may be put into a prompt: no link on the way is followed
    (:mod:`wrapix_core.workspace_fs`), so it is never a host file a planted link points at.
    """
    try:
        data = workspace_fs.read_bytes(anchor, path, limit + 1)
    except (WrapixError, OSError):
        return None
    if len(data) > limit:
        return None
    return data.decode("utf-8", errors="replace")


def save_spec(paths: RalphPaths, label: str, text: str) -> None:
    paths.write_text(spec_copy(paths, label), text)


def spec_diff(paths: RalphPaths, label: str, spec: str, current: str) -> str | None:
    """A unified diff of the spec since the last ``ready`` (cut at :data:`MAX_DIFF_CHARS`),
    '' when it did not change, None when no earlier copy was kept."""
    earlier = read_workspace_text(paths.anchor, spec_copy(paths, label))
    if earlier is None:
        return None
    if earlier == current:
        return ""
    diff = "".join(difflib.unified_diff(
        earlier.splitlines(keepends=True), current.splitlines(keepends=True),
        fromfile=f"{spec} (at the last ralph ready)", tofile=f"{spec} (now)"))
    if len(diff) > MAX_DIFF_CHARS:
        diff = (diff[:MAX_DIFF_CHARS].rstrip("\n")
                + f"\n[… cut here: {len(diff) - MAX_DIFF_CHARS} more characters; compare "
                  f"with the whole spec]\n")
    return diff
