"""A session's branch against its base, now: commits ahead and behind, files and lines
changed, uncommitted work, and whether it merges cleanly into the base.

Everything is computed in the session's repository (which sees the project's objects
through alternates) from commit ids read in the project, so the user's checkout, index
and refs are never touched: merge-cleanliness is ``git merge-tree --write-tree`` (git
≥ 2.38), which writes only objects, and only into the session's own store.
"""

from __future__ import annotations

from wrapix_core.sessions import gitcmd
from wrapix_core.sessions.model import Session, SessionStats


def base_tip(session: Session) -> str | None:
    """The base branch's commit in the project now (None: no base branch, or gone)."""
    if session.base_ref is None:
        return None
    return gitcmd.rev(gitcmd.project(session.project, "rev-parse", "--verify", "--quiet",
                                     f"refs/heads/{session.base_ref}^{{commit}}",
                                     check=False))


def session_head(session: Session) -> str | None:
    """The commit of the session's branch ``wrapix/NAME`` (None: the agent deleted it)."""
    return gitcmd.rev(gitcmd.session(session.path, "rev-parse", "--verify", "--quiet",
                                     f"refs/heads/{session.branch}^{{commit}}", check=False))


def numstat(text: str) -> tuple[int, int, int]:
    """(files, lines added, lines removed) of ``git diff --numstat -z`` output."""
    files = added = removed = 0
    fields = text.split("\0")
    index = 0
    while index < len(fields):
        record = fields[index]
        index += 1
        if not record:
            continue
        parts = record.split("\t")
        if len(parts) < 3:
            continue
        files += 1
        added += int(parts[0]) if parts[0].isdigit() else 0
        removed += int(parts[1]) if parts[1].isdigit() else 0
        if parts[2] == "":  # a rename: two more NUL-separated paths follow
            index += 2
    return files, added, removed


def uncommitted(session: Session) -> tuple[str, ...]:
    """Paths with uncommitted changes in the session's work tree, untracked included."""
    done = gitcmd.session(session.path, "status", "--porcelain=v1", "-z", "--no-renames",
                          "--untracked-files=all", "--ignore-submodules=all", check=False)
    if done.returncode != 0:
        return ()
    return tuple(sorted({entry[3:] for entry in done.stdout.split("\0") if len(entry) > 3}))


def conflicts(session: Session, base: str, head: str) -> tuple[bool, tuple[str, ...]]:
    """(merges cleanly, conflicted paths) of ``head`` into ``base``."""
    done = gitcmd.session(session.path, "merge-tree", "--write-tree", "--name-only",
                          "--no-messages", base, head, check=False)
    if done.returncode == 0:
        return True, ()
    if done.returncode != 1:
        raise gitcmd.GitFailed(f"git merge-tree failed: {done.stderr.strip()[-300:]}")
    lines = done.stdout.splitlines()[1:]
    return False, tuple(dict.fromkeys(line for line in lines if line))


def session_stats(session: Session) -> SessionStats:
    """The session's statistics now (see :class:`SessionStats`). Blocking: runs a few
    git commands; call it from a thread in an event loop."""
    problems: list[str] = []
    head = session_head(session)
    tip = base_tip(session)
    if session.base_ref is not None and tip is None:
        problems.append(f"the base branch {session.base_ref} no longer exists in the project")
    dirty = uncommitted(session)
    _, wt_added, wt_removed = numstat(gitcmd.session(
        session.path, "diff", "--numstat", "-z", "HEAD", check=False).stdout)
    if head is None:
        problems.append(f"the branch {session.branch} is gone from the session")
        return SessionStats(head=None, base_tip=tip, uncommitted=dirty,
                            uncommitted_added=wt_added, uncommitted_removed=wt_removed,
                            problems=tuple(problems))
    target = tip or session.base_commit
    counts = gitcmd.session(session.path, "rev-list", "--left-right", "--count",
                            f"{target}...{head}", check=False).stdout.split()
    behind, ahead = (int(counts[0]), int(counts[1])) if len(counts) == 2 else (0, 0)
    merge_base = gitcmd.rev(gitcmd.session(session.path, "merge-base", target, head,
                                           check=False)) or session.base_commit
    files, added, removed = numstat(gitcmd.session(
        session.path, "diff", "--numstat", "-z", "--no-renames", merge_base, head,
        check=False).stdout)
    clean: bool | None = None
    conflicted: tuple[str, ...] = ()
    if tip is not None and ahead:
        clean, conflicted = conflicts(session, tip, head)
    return SessionStats(
        head=head, base_tip=tip, ahead=ahead, behind=behind, files=files, added=added,
        removed=removed, uncommitted=dirty, uncommitted_added=wt_added,
        uncommitted_removed=wt_removed, merges_cleanly=clean, conflicts=conflicted,
        merged=ahead == 0 or head == session.merged_head, problems=tuple(problems))
