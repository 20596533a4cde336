"""Landing a session's branch on its base branch in the user's checkout.

Order of work, so that a refusal leaves the user's checkout, index and branches exactly as
they were:

1. The session's uncommitted work is not merged silently: the merge stops and lists it
   (the agent, or the user in the session, commits it first).
2. The branch is fetched from the session's repository into the project's hidden ref
   ``refs/wrapix/sessions/NAME/head`` — fetching from hostile data: the session's config is
   wrapix's and read-only in its sandbox, hooks never run (:mod:`.gitcmd`), only the one
   ref is taken, no tags, no submodules.
3. The new base commit is computed without any work tree (``git merge-tree
   --write-tree``, ``git commit-tree``): a merge commit, one squashed commit, the session's
   commits replayed on the base, or the branch itself when it is a fast-forward. A
   conflict is refused here, with the files.
4. Landing: when the base branch is not checked out, its ref moves (compare-and-swap on
   the old commit). When it is the user's current branch, the files the merge changes must
   be clean in their checkout (else refused, with the files); then ``git read-tree -m -u``
   moves index and work tree from the old commit to the new one — keeping every other
   local change — and the ref follows.
"""

from __future__ import annotations

from pathlib import Path

from wrapix_core import proc
from wrapix_core.sessions import gitcmd, store
from wrapix_core.sessions.model import (
    HIDDEN_REFS,
    MergeRefused,
    MergeResult,
    Session,
    SessionError,
    Strategy,
)
from wrapix_core.sessions.stats import base_tip, uncommitted

_IN_PROGRESS = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge",
                "rebase-apply")


def _listed(paths: tuple[str, ...], limit: int = 20) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _clean_line(text: str) -> str:
    return "".join(char for char in text if char.isprintable())[:200]


def fetch(session: Session) -> str:
    """Fetch the session's branch into the project's hidden ref; returns its commit."""
    hidden = f"{HIDDEN_REFS}/{session.name}/head"
    gitcmd.project(session.project, "-c", "protocol.file.allow=always", "fetch", "--quiet",
                   "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
                   "--no-auto-gc", str(session.path),
                   f"+refs/heads/{session.branch}:{hidden}", timeout=300)
    head = gitcmd.rev(gitcmd.project(session.project, "rev-parse", "--verify", "--quiet",
                                     f"{hidden}^{{commit}}", check=False))
    if head is None:
        raise MergeRefused(f"the branch {session.branch} could not be fetched from session "
                           f"{session.name}")
    return head


def _merge_tree(project: Path, ours: str, theirs: str) -> tuple[str | None, tuple[str, ...]]:
    """(tree, ()) when ``theirs`` merges into ``ours`` cleanly, else (None, conflicts)."""
    done = gitcmd.project(project, "merge-tree", "--write-tree", "--name-only",
                          "--no-messages", ours, theirs, check=False)
    lines = done.stdout.splitlines()
    if done.returncode == 0 and lines:
        return lines[0].strip(), ()
    if done.returncode == 1:
        return None, tuple(dict.fromkeys(line for line in lines[1:] if line))
    raise gitcmd.GitFailed(f"git merge-tree failed: {done.stderr.strip()[-300:]}")


def _commit(project: Path, tree: str, parents: tuple[str, ...], message: str,
            env: dict[str, str] | None = None) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    done = gitcmd.project(project, *args, "-F", "-", input=message, env=env)
    return done.stdout.strip()


def _conflict(session: Session, files: tuple[str, ...], tip: str) -> MergeRefused:
    return MergeRefused(
        f"session {session.name} conflicts with {session.base_ref} in {len(files)} "
        f"file(s): {_listed(files)}; nothing was changed",
        f"rebase the session onto {session.base_ref} ({tip[:12]}) and resolve them there, "
        f"e.g. `wrapix say {session.name} \"git rebase {tip[:12]} and resolve the "
        "conflicts\"`, then merge again", files=files)


def _subjects(project: Path, old: str, head: str) -> list[str]:
    done = gitcmd.project(project, "log", "--reverse", "--format=%s", f"{old}..{head}")
    return [_clean_line(line) for line in done.stdout.splitlines()]


def _replay(session: Session, old: str, head: str) -> str:
    """The session's commits replayed on ``old`` (a rebase without a work tree)."""
    project = session.project
    listed = gitcmd.project(project, "rev-list", "--reverse", "--topo-order", "--parents",
                            f"{old}..{head}").stdout.split("\n")
    parent = old
    for line in filter(None, listed):
        commit, *parents = line.split()
        if len(parents) > 1:
            raise MergeRefused(f"session {session.name} holds merge commits, which --rebase "
                               "does not replay", "merge it (the default) or --squash it")
        tree, files = _merge_tree(project, parent, commit)
        if tree is None:
            raise _conflict(session, files, old)
        info = gitcmd.project(project, "log", "-1", "--date=raw",
                              "--format=%an%x00%ae%x00%ad%x00%B", commit).stdout
        name, email, date, message = [*info.split("\0", 3), "", "", ""][:4]
        parent = _commit(project, tree, (parent,), message or "(no message)\n",
                         env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                              "GIT_AUTHOR_DATE": date})
    return parent


def new_base(session: Session, strategy: Strategy, old: str, head: str,
             message: str | None = None) -> str:
    """The commit the base branch moves to; :class:`MergeRefused` on a conflict."""
    project = session.project
    fast_forward = gitcmd.project(project, "merge-base", "--is-ancestor", old, head,
                                  check=False).returncode == 0
    if strategy == "ff-only" and not fast_forward:
        raise MergeRefused(f"{session.base_ref} has moved on since session {session.name} "
                           "started, so it cannot be fast-forwarded",
                           "merge without --ff-only, use --rebase, or rebase the session")
    if fast_forward and strategy != "squash":
        return head
    tree, files = _merge_tree(project, old, head)
    if tree is None:
        raise _conflict(session, files, old)
    if strategy == "rebase":
        return _replay(session, old, head)
    subjects = _subjects(project, old, head)
    if strategy == "squash":
        text = message or (f"Session {session.name} ({session.branch}), squashed: "
                           f"{len(subjects)} commit(s)\n\n"
                           + "".join(f"- {subject}\n" for subject in subjects))
        return _commit(project, tree, (old,), text)
    text = message or (f"Merge session {session.name} ({session.branch}) into "
                       f"{session.base_ref}\n")
    return _commit(project, tree, (old, head), text)


def _git_dir(project: Path) -> Path:
    return Path(gitcmd.project(project, "rev-parse", "--path-format=absolute",
                               "--git-dir").stdout.strip())


def _checked_out_elsewhere(project: Path, branch: str) -> str | None:
    done = gitcmd.project(project, "worktree", "list", "--porcelain", check=False)
    path = None
    for line in done.stdout.splitlines():
        if line.startswith("worktree "):
            path = line[len("worktree "):]
        elif line == f"branch refs/heads/{branch}":
            return path
    return None


def _paths_z(text: str) -> set[str]:
    return {entry for entry in text.split("\0") if entry}


def _dirty(project: Path) -> set[str]:
    done = gitcmd.project(project, "status", "--porcelain=v1", "-z", "--no-renames",
                          "--untracked-files=all")
    return {entry[3:] for entry in done.stdout.split("\0") if len(entry) > 3}


def _in_the_way(changed: set[str], dirty: set[str]) -> tuple[str, ...]:
    """Dirty paths the merge would overwrite (the same path, or one above or below)."""
    hits = {path for path in dirty
            if path in changed or any(other.startswith(f"{path.rstrip('/')}/")
                                      or path.startswith(f"{other}/") for other in changed)}
    return tuple(sorted(hits))


def land(session: Session, branch: str, old: str, new: str) -> bool:
    """Move ``branch`` from ``old`` to ``new`` in the project; True when it is the
    checked-out branch and the work tree and index moved with it."""
    project = session.project
    reason = f"wrapix merge: session {session.name}"
    current = gitcmd.project(project, "symbolic-ref", "-q", "HEAD", check=False).stdout.strip()
    if current != f"refs/heads/{branch}":
        elsewhere = _checked_out_elsewhere(project, branch)
        if elsewhere is not None:
            raise MergeRefused(f"{branch} is checked out in another worktree, {elsewhere}",
                               "switch that worktree to another branch, or merge there")
        _update_ref(project, branch, new, old, reason)
        return False
    git_dir = _git_dir(project)
    busy = [name for name in _IN_PROGRESS if (git_dir / name).exists()]
    if busy:
        raise MergeRefused(f"your checkout {project} is in the middle of a merge, rebase or "
                           f"cherry-pick ({', '.join(busy)})",
                           "finish or abort it first; nothing was changed")
    changed = _paths_z(gitcmd.project(project, "diff", "--name-only", "-z", "--no-renames",
                                      old, new).stdout)
    blocking = _in_the_way(changed, _dirty(project))
    if blocking:
        raise MergeRefused(
            f"your checkout {project} has uncommitted changes in {len(blocking)} file(s) "
            f"the merge changes: {_listed(blocking)}; nothing was changed",
            "commit or stash them (`git stash -u`), then run `wrapix merge` again",
            files=blocking)
    moved = gitcmd.project(project, "read-tree", "-m", "-u", old, new, check=False)
    if moved.returncode != 0:
        raise MergeRefused(f"git could not update your checkout: "
                           f"{proc.last_lines(moved.stderr, 3)}; nothing was changed",
                           "commit or stash your changes, then merge again")
    try:
        _update_ref(project, branch, new, old, reason)
    except MergeRefused:
        gitcmd.project(project, "read-tree", "-m", "-u", new, old, check=False)
        raise
    return True


def _update_ref(project: Path, branch: str, new: str, old: str, reason: str) -> None:
    done = gitcmd.project(project, "update-ref", "-m", reason, f"refs/heads/{branch}", new,
                          old, check=False)
    if done.returncode != 0:
        raise MergeRefused(f"{branch} moved while merging ({done.stderr.strip()[-200:]}); "
                           "nothing was changed", "run `wrapix merge` again")


def _commit_yourself(session: Session) -> str:
    if session.host is not None:  # its copy here is replaced at each fetch
        return f"`wrapix shell {session.host}/{session.container}` and `git commit -a`"
    return f"`git -C {session.path} commit -a`"


def merge_session(session: Session, strategy: Strategy = "merge", *,
                  message: str | None = None) -> MergeResult:
    """Land ``session`` on its base branch (see the module docstring)."""
    if session.base_ref is None:
        raise SessionError(f"session {session.name} was made from a commit no branch named, "
                           "so it has no base to land on",
                           f"fetch it yourself: `git fetch {session.path} {session.branch}`")
    dirty = uncommitted(session)
    if dirty:
        raise MergeRefused(
            f"session {session.name} has uncommitted work in {len(dirty)} file(s): "
            f"{_listed(dirty)}; nothing was merged",
            f"have it committed in the session (`wrapix say {session.name} \"commit your "
            f"work\"`, or {_commit_yourself(session)}), then merge again",
            files=dirty)
    old = base_tip(session)
    if old is None:
        raise MergeRefused(f"the base branch {session.base_ref} no longer exists in "
                           f"{session.project}", "recreate it, then merge again")
    gitcmd.check_repository(session.path, session.name)
    head = fetch(session)
    commits = int(gitcmd.project(session.project, "rev-list", "--count",
                                 f"{old}..{head}").stdout.strip() or 0)
    if commits == 0:
        return MergeResult(session.name, strategy, session.base_ref, old, old, False, 0)
    new = new_base(session, strategy, old, head, message)
    updated = land(session, session.base_ref, old, new)
    store.save(_with_merged(session, head))
    return MergeResult(session.name, strategy, session.base_ref, old, new, updated, commits)


def _with_merged(session: Session, head: str) -> Session:
    from dataclasses import replace

    return replace(session, merged_head=head)
