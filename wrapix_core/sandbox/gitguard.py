"""Git redirection: what a sandbox can plant in a workspace to make the HOST's git run it.

A sandbox writes the workspace, and the host later runs ``git`` there. ``.git/config`` and
``.git/hooks`` are mounted read-only (:mod:`.plan`), but git reads configuration and hooks
from other places that the agent can create:

- ``.git/commondir`` makes ``.git`` a linked worktree of any directory the agent chose:
  git then takes its config (``core.fsmonitor`` runs on every ``git status``) and hooks
  from there. A main repository never has one.
- ``.git/config.worktree`` is read when ``extensions.worktreeConfig`` is set.
- ``.git/worktrees/NAME/{commondir,gitdir,config.worktree}`` steer git run in a linked
  worktree.
- nested repositories (``sub/.git``, a directory or a ``gitdir:`` file) and submodule
  repositories (``.git/modules/NAME``) have their own config and hooks; the host's
  ``git status`` in the project runs git in every checked-out submodule (a gitlink the
  agent can add with ``git add sub``), and git run in ``sub/`` obeys it.

Prevention (:mod:`.plan`): ``.git/worktrees`` is created empty when missing and mounted
read-only, and an existing ``.git/config.worktree`` is mounted read-only. Nothing is
mounted onto a path that does not exist (the runtime would create it on the host: an empty
``.git/commondir`` breaks git), so the rest cannot be prevented by mounts and is detected:

- :func:`quick` — a few ``lstat`` calls and small reads of the top-level ``.git`` (no tree
  walk): every launch (the fast path included, so this module imports only the standard
  library and :mod:`wrapix_core.workspace_fs`), and live in the TUI when ``.git`` changes;
- :func:`scan` — :func:`quick` plus a walk of the workspace for nested repositories and of
  ``.git/modules``: when a sandbox stops, and in ``wrapix audit``.

Reading never follows a symlink (``lstat``, ``O_NOFOLLOW``): a symlink where git keeps
its own files is a finding itself. Host git is never run on the tree to find out.

:func:`neutralise` undoes a finding without losing data: a file or directory that only
redirects is renamed aside to ``NAME.wrapix-quarantine-<time>`` (git no longer reads it;
its content stays for inspection), never deleted.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from wrapix_core import workspace_fs

TYPE_CHECKING = False  # typing costs a millisecond on the launch fast path
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_CONFIG = 1 << 20
"""Bytes of a git config file read at most; a longer one is a finding by itself."""
QUARANTINE = ".wrapix-quarantine-"

_COMMAND_KEYS = frozenset({
    "core.fsmonitor", "core.hookspath", "core.sshcommand", "core.pager", "core.editor",
    "core.askpass", "core.gitproxy", "core.alternaterefscommand",
    "diff.external", "sequence.editor", "interactive.difffilter", "gpg.program",
    "credential.helper", "uploadpack.packobjectshook", "web.browser", "include.path",
    "sendemail.sendmailcmd", "sendemail.smtpserver", "sendemail.tocmd", "sendemail.cccmd",
})
"""``section.name`` keys whose value git runs as a command (or that pull in other files)."""
_COMMAND_SUBKEYS = {
    "includeif": ("path",), "filter": ("clean", "smudge", "process"),
    "diff": ("command", "textconv"), "merge": ("driver",), "mergetool": ("cmd",),
    "difftool": ("cmd",), "credential": ("helper",), "gpg": ("program",),
    "browser": ("cmd", "path"), "man": ("cmd", "path"), "trailer": ("command", "cmd"),
    "remote": ("uploadpack", "receivepack"),
}
"""``section.<subsection>.name`` keys that run commands."""


class Finding:
    """One planted thing: ``path`` relative to the workspace, ``what`` it is, ``why`` it
    is dangerous; ``fixable`` when :func:`neutralise` can undo it."""

    __slots__ = ("fixable", "path", "what", "why")

    def __init__(self, path: str, what: str, why: str, fixable: bool = True) -> None:
        self.path = path
        self.what = what
        self.why = why
        self.fixable = fixable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"Finding({self.path!r}, {self.what!r})"

    def key(self) -> tuple[str, str]:
        return (self.path, self.what)

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "what": self.what, "why": self.why,
                "fixable": self.fixable}


# -- reading without following links ------------------------------------------------------

def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _read(path: str, limit: int = MAX_CONFIG) -> bytes | None:
    """A regular file's first ``limit`` + 1 bytes, never through a symlink; None when it
    is missing or not a regular file."""
    try:
        fd = workspace_fs.regular_fd(path, nofollow=True)
    except OSError:
        return None
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _entries(path: str) -> list[os.DirEntry[str]]:
    """A real directory's entries (none for a symlink or a file)."""
    info = _lstat(path)
    if info is None or not stat.S_ISDIR(info.st_mode):
        return []
    try:
        with os.scandir(path) as found:
            return list(found)
    except OSError:
        return []


# -- git config: just enough syntax to name every key ------------------------------------

def config_keys(data: bytes) -> list[tuple[str, str]] | None:
    """``(key, value)`` for every variable in a git config file, the key as
    ``section[.subsection].name`` (section and name lower-cased, as git compares them);
    None when the text is not valid git config syntax (git would refuse it too, but a
    reader that disagrees with git must not be the one that says "harmless")."""
    text = data.decode("utf-8", "replace")
    keys: list[tuple[str, str]] = []
    section: str | None = None
    i, end = 0, len(text)
    while i < end:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c in "#;":
            while i < end and text[i] != "\n":
                i += 1
        elif c == "[":
            close = text.find("]", i)
            if close < 0:
                return None
            header = text[i + 1:close]
            quote = header.find('"')
            if quote >= 0:  # [section "subsection"]
                name = header[:quote].strip().lower()
                sub = header[quote + 1:]
                while sub.endswith('\\"') or not sub.endswith('"'):
                    # a ']' inside the quoted subsection: read on to the next one
                    close = text.find("]", close + 1)
                    if close < 0 or "\n" in text[i:close]:
                        return None
                    header = text[i + 1:close]
                    sub = header[quote + 1:]
                section = f"{name}.{sub[:-1].replace(chr(92), '')}"
            else:
                section = header.strip().lower()  # [section] or [section.sub]
            if not section or "\n" in header:
                return None
            i = close + 1
        else:
            if section is None:
                return None
            start = i
            while i < end and (text[i].isalnum() or text[i] == "-"):
                i += 1
            name = text[start:i].lower()
            if not name:
                return None
            while i < end and text[i] in " \t":
                i += 1
            value: list[str] = []
            if i < end and text[i] == "=":
                i += 1
                quoted = False
                while i < end:
                    c = text[i]
                    if c == "\\" and i + 1 < end:
                        value.append("" if text[i + 1] == "\n" else text[i + 1])
                        i += 2
                        continue
                    if c == "\n" or (c in "#;" and not quoted):
                        break
                    if c == '"':
                        quoted = not quoted
                    else:
                        value.append(c)
                    i += 1
                if quoted:
                    return None
            elif i < end and text[i] not in "\r\n#;":
                return None
            keys.append((f"{section}.{name}", "".join(value).strip()))
    return keys


def _command_key(key: str, value: str) -> bool:
    if key in _COMMAND_KEYS:
        return True
    section, _, rest = key.partition(".")
    sub, _, name = rest.rpartition(".")
    if sub and name in _COMMAND_SUBKEYS.get(section, ()):
        return True
    if section == "alias" or (section == "submodule" and name == "update"):
        return value.startswith("!")
    if section == "pager":  # pager.<command>: a boolean, or the pager to run
        return value.lower() not in ("", "true", "false", "yes", "no", "on", "off", "1", "0")
    return section == "protocol" and name == "allow" and value.lower() == "always"


def dangerous_keys(data: bytes, git_dir: str = "", workspace: str = "") -> list[str] | None:
    """The command-running keys a config sets (None: unparseable, see :func:`config_keys`).

    ``core.worktree`` counts when it leads out of ``workspace`` (git resolves it from
    ``git_dir``): a submodule's config sets it to its checkout, and one elsewhere would
    let git write the host's files there."""
    keys = config_keys(data)
    if keys is None:
        return None
    return list(dict.fromkeys(key for key, value in keys if _command_key(key, value)
                              or (key == "core.worktree"
                                  and not _inside(workspace, os.path.join(git_dir, value)))))


def _inside(workspace: str, path: str) -> bool:
    root, path = os.path.normpath(workspace), os.path.normpath(path)
    return bool(workspace) and os.path.commonpath([root, path]) == root


# -- the checks ---------------------------------------------------------------------------

def _config_finding(path: str, rel: str, what: str, workspace: str) -> Finding | None:
    """A finding for the config file at ``path`` when git would run something from it."""
    info = _lstat(path)
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        return Finding(rel, "symlink", "git would read its configuration through a link "
                       "the sandbox planted")
    data = _read(path)
    if data is None:
        return Finding(rel, what, "it is not a regular file")
    if len(data) > MAX_CONFIG:
        return Finding(rel, what, f"it is larger than {MAX_CONFIG} bytes, too large to check")
    keys = dangerous_keys(data, os.path.dirname(path), workspace)
    if keys is None:
        return Finding(rel, what, "it is not valid git config, so it cannot be checked")
    if keys:
        verb = "makes" if len(keys) == 1 else "make"
        return Finding(rel, what, f"it sets {', '.join(keys)}, which {verb} git run a command")
    return None


def _symlinks(directory: str, rel: str) -> Iterator[Finding]:
    for entry in _entries(directory):
        if entry.is_symlink():
            yield Finding(f"{rel}/{entry.name}", "symlink",
                          "git would follow it out of the repository (git never makes one "
                          "there)")


def _worktree_entries(workspace: str, git_dir: str, rel: str) -> Iterator[Finding]:
    """``.git/worktrees/NAME``: commondir other than git's own ``../..``, links, and a
    config.worktree with commands."""
    worktrees = os.path.join(git_dir, "worktrees")
    info = _lstat(worktrees)
    if info is not None and stat.S_ISLNK(info.st_mode):
        yield Finding(f"{rel}/worktrees", "symlink", "git would read linked worktrees "
                      "through a link the sandbox planted")
        return
    for entry in _entries(worktrees):
        path, entry_rel = entry.path, f"{rel}/worktrees/{entry.name}"
        if entry.is_symlink():
            yield Finding(entry_rel, "symlink", "git would read a linked worktree through a "
                          "link the sandbox planted")
            continue
        yield from _symlinks(path, entry_rel)
        found = _commondir(path, entry_rel, main=False)
        if found:
            yield found
        found = _config_finding(os.path.join(path, "config.worktree"),
                                f"{entry_rel}/config.worktree", "config.worktree", workspace)
        if found:
            yield found


def _commondir(git_dir: str, rel: str, *, main: bool) -> Finding | None:
    """A main repository never has a ``commondir``; a linked worktree's (in
    ``.git/worktrees/NAME``) is git's own when it says ``../..``."""
    info = _lstat(os.path.join(git_dir, "commondir"))
    if info is None:
        return None
    common = _read(os.path.join(git_dir, "commondir"), 4096)
    linked = os.path.basename(os.path.dirname(os.path.normpath(git_dir))) == "worktrees"
    if not main and linked and common is not None and common.strip() in (b"../..", b"../../"):
        return None
    where = common.strip().decode("utf-8", "replace")[:200] if common else "?"
    return Finding(f"{rel}/commondir", "commondir",
                   f"git run there takes its config and hooks from {where!r} instead"
                   + (" (a repository never has one; a sandbox planted it)" if main else ""))


def check_git_dir(workspace: str, git_dir: str, rel: str, *, main: bool) -> list[Finding]:
    """What in the git directory ``git_dir`` (``rel`` from the workspace) redirects git.

    ``main``: the workspace's own ``.git``, whose config and hooks are the user's and
    mounted read-only; a nested or submodule repository's config and hooks are checked."""
    found: list[Finding] = list(_symlinks(git_dir, rel))
    found += [f for f in (_commondir(git_dir, rel, main=main),
                          _config_finding(os.path.join(git_dir, "config.worktree"),
                                          f"{rel}/config.worktree", "config.worktree",
                                          workspace)) if f]
    found += _worktree_entries(workspace, git_dir, rel)
    if not main:
        config = _config_finding(os.path.join(git_dir, "config"), f"{rel}/config",
                                 "repository config", workspace)
        if config:
            found.append(config)
        for entry in _entries(os.path.join(git_dir, "hooks")):
            if not entry.name.endswith(".sample"):
                found.append(Finding(f"{rel}/hooks/{entry.name}", "hook",
                                     "git runs it (on commit, checkout, merge, …) in "
                                     "that repository"))
    return list(dict.fromkeys(found))


def _module_dirs(modules: str, rel: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """Submodule git directories under ``.git/modules`` (names may contain slashes, and
    submodules nest as ``modules/a/modules/b``)."""
    if depth > 8:
        return
    for entry in _entries(modules):
        if not entry.is_dir(follow_symlinks=False):
            continue
        path, entry_rel = entry.path, f"{rel}/{entry.name}"
        if _lstat(os.path.join(path, "HEAD")) is not None:
            yield path, entry_rel
            yield from _module_dirs(os.path.join(path, "modules"), f"{entry_rel}/modules",
                                    depth + 1)
        else:
            yield from _module_dirs(path, entry_rel, depth + 1)


def _gitdir_target(workspace: str, dot_git: str) -> str | None:
    """The directory a ``gitdir:`` file names when it lies inside the workspace (with no
    symlink on the way); None otherwise (outside, the sandbox cannot write it)."""
    data = _read(dot_git, 4096)
    if data is None or not data.startswith(b"gitdir:"):
        return None
    target = data[7:].strip().decode("utf-8", "replace")
    path = os.path.normpath(os.path.join(os.path.dirname(dot_git), target))
    root = os.path.normpath(workspace)
    if os.path.commonpath([root, path]) != root:
        return None
    probe = root
    for part in os.path.relpath(path, root).split(os.sep):
        probe = os.path.join(probe, part)
        info = _lstat(probe)
        if info is None or stat.S_ISLNK(info.st_mode):
            return None
    return path if stat.S_ISDIR(os.lstat(path).st_mode) else None


def quick(workspace: str) -> list[Finding]:
    """The launch-time check: the top-level ``.git`` only (see the module docstring)."""
    dot_git = os.path.join(workspace, ".git")
    info = _lstat(dot_git)
    if info is None:
        return []
    if stat.S_ISLNK(info.st_mode):
        return [Finding(".git", "symlink", "git would use a repository the link points at, "
                        "wherever that is", fixable=False)]
    if stat.S_ISDIR(info.st_mode):
        found = check_git_dir(workspace, dot_git, ".git", main=True)
        for path, rel in _shallow_modules(dot_git):
            found += check_git_dir(workspace, path, rel, main=False)
        return list(dict.fromkeys(found))
    target = _gitdir_target(workspace, dot_git) if stat.S_ISREG(info.st_mode) else None
    if target is None:
        return []
    return check_git_dir(workspace, target, os.path.relpath(target, workspace), main=False)


def _shallow_modules(dot_git: str) -> Iterator[tuple[str, str]]:
    """``.git/modules/NAME`` one level deep (the cheap check's share of submodules)."""
    for entry in _entries(os.path.join(dot_git, "modules")):
        if entry.is_dir(follow_symlinks=False) \
                and _lstat(os.path.join(entry.path, "HEAD")) is not None:
            yield entry.path, f".git/modules/{entry.name}"


def _nested(workspace: str) -> Iterator[tuple[str, str, bool]]:
    """Every ``.git`` below the workspace root: (path, relative path, is a directory),
    walking real directories only."""
    pending = [workspace]
    while pending:
        directory = pending.pop()
        for entry in _entries(directory):
            if entry.name == ".git":
                if directory != workspace:
                    rel = os.path.relpath(entry.path, workspace)
                    yield entry.path, rel, entry.is_dir(follow_symlinks=False)
                continue
            # No directory is skipped by its name: the sandbox chooses names, and a
            # repository in any of them is a submodule the host's `git status` enters.
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)


def scan(workspace: str) -> list[Finding]:
    """The thorough check: :func:`quick`, every submodule repository under
    ``.git/modules``, and every nested repository in the tree."""
    found = quick(workspace)
    dot_git = os.path.join(workspace, ".git")
    for path, rel in _module_dirs(os.path.join(dot_git, "modules"), ".git/modules"):
        found += check_git_dir(workspace, path, rel, main=False)
    for path, rel, is_dir in _nested(workspace):
        if is_dir:
            found += check_git_dir(workspace, path, rel, main=False)
            continue
        info = _lstat(path)
        if info is not None and stat.S_ISLNK(info.st_mode):
            found.append(Finding(rel, "symlink", "git run there would use the repository "
                                 "the link points at"))
            continue
        target = _gitdir_target(workspace, path)
        if target is not None:
            found += check_git_dir(workspace, target, os.path.relpath(target, workspace),
                                   main=False)
    return sorted(dict.fromkeys(found), key=lambda finding: finding.path)


# -- saying it, and undoing it ------------------------------------------------------------

def summary(findings: list[Finding], limit: int = 5) -> str:
    """``path (what)`` for the first few findings, on one line."""
    text = "; ".join(f"{f.path} ({f.what})" for f in findings[:limit])
    return text + (f"; and {len(findings) - limit} more" if len(findings) > limit else "")


def report(workspace: str, findings: list[Finding], *, limit: int = 20) -> list[str]:
    """Lines naming each finding (the caller escapes them for a terminal: paths are the
    sandbox's choice)."""
    lines = [f"git in {workspace} has been redirected from inside a sandbox; the host's "
             "git would run what was planted:"]
    lines += [f"  {f.path}: {f.what}: {f.why}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  … and {len(findings) - limit} more")
    lines.append(f"Do not run git there. `wrapix audit {workspace}` lists them; "
                 f"`wrapix audit --fix {workspace}` moves them aside.")
    return lines


REDIRECTED = 2
"""The exit status of a command that found git redirected (bad input: the workspace)."""


def say_after_stop(workspace: str, prog: str = "wrapix") -> bool:
    """Run :func:`scan` once a sandbox has stopped and print what it found on stderr;
    True when it found something (the command then exits :data:`REDIRECTED`)."""
    findings = scan(workspace)
    if not findings:
        return False
    from wrapix_core.untrusted import line

    for text in report(workspace, findings):
        print(f"{prog}: {line(text)}", file=sys.stderr)
    return True


def _fix_target(finding: Finding) -> str:
    """What to move aside for ``finding``: the nested repository's ``.git`` for its
    config and hooks (the whole repository stops being one, its history kept), the file
    itself otherwise."""
    parts = finding.path.split("/")
    if finding.what in ("repository config", "hook") and ".git" in parts \
            and parts[:2] != [".git", "modules"]:
        return "/".join(parts[:len(parts) - parts[::-1].index(".git")])
    if finding.what in ("repository config", "hook") and parts[:2] == [".git", "modules"]:
        cut = len(parts) - (2 if finding.what == "hook" else 1)
        return "/".join(parts[:cut])
    return finding.path


def neutralise(workspace: str, findings: list[Finding],
               now: float | None = None) -> list[tuple[str, str]]:
    """Rename each fixable finding's target aside (see :func:`_fix_target`);
    ``(from, to)`` relative paths, in the order done."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now if now is not None else time.time()))
    done: list[tuple[str, str]] = []
    targets = list(dict.fromkeys(_fix_target(f) for f in findings if f.fixable))
    for rel in sorted(targets, key=len):
        if any(rel == old or rel.startswith(old + "/") for old, _ in done):
            continue  # inside something already moved aside
        source = os.path.join(workspace, rel)
        if _lstat(source) is None:
            continue
        dest = f"{rel}{QUARANTINE}{stamp}"
        count = 1
        while _lstat(os.path.join(workspace, dest)) is not None:  # never replace one
            count += 1
            dest = f"{rel}{QUARANTINE}{stamp}-{count}"
        os.rename(source, os.path.join(workspace, dest))
        done.append((rel, dest))
    return done
