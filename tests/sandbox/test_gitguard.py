"""Git redirection planted in a workspace (issue 13): found without following links or
running git, reported by path, moved aside without losing anything. The attacks run on
the host here; tests/sandbox/test_podman_real.py runs them from inside real sandboxes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import script
from tests.support.gitplant import attack, git, make_repo
from wrapix_core.sandbox import gitguard


def plant(repo: Path, name: str, mark: Path) -> None:
    subprocess.run(["sh", "-c", attack(name, str(mark))], cwd=repo, check=True,
                   capture_output=True, timeout=60,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull,
                        "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@a",
                        "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@a"})


def paths(findings: list[gitguard.Finding]) -> list[str]:
    return [finding.path for finding in findings]


@pytest.mark.parametrize(("text", "keys"), [
    (b"[core]\n\tfsmonitor = x\n", [("core.fsmonitor", "x")]),
    (b"[Core] FSMonitor\n", [("core.fsmonitor", "")]),  # same line as the header, no value
    (b'[filter "lfs"]\n clean = "git-lfs clean" ; c\n', [("filter.lfs.clean", "git-lfs clean")]),
    (b"[core.x]k=1\n", [("core.x.k", "1")]),
    (b"# comment\n[a]\n  b = one \\\n two\n", [("a.b", "one  two")]),
])
def test_config_keys_as_git_reads_them(text: bytes, keys: list[tuple[str, str]]) -> None:
    assert gitguard.config_keys(text) == keys


@pytest.mark.parametrize("text", [b"k = v\n", b"[core\n", b'[a]\nb = "open\n', b"[a]\n!x\n"])
def test_what_is_not_git_config_is_not_called_harmless(text: bytes) -> None:
    assert gitguard.config_keys(text) is None
    assert gitguard.dangerous_keys(text) is None


def test_command_running_keys() -> None:
    text = (b"[core]\n fsmonitor = a\n hooksPath = h\n bare = false\n[alias]\n st = status\n"
            b" x = !sh\n[include]\n path = other\n[diff \"d\"]\n textconv = t\n"
            b"[pager]\n log = false\n diff = evil\n[user]\n name = n\n")
    assert gitguard.dangerous_keys(text) == ["core.fsmonitor", "core.hookspath", "alias.x",
                                             "include.path", "diff.d.textconv", "pager.diff"]


def test_a_clean_repository_with_a_real_submodule_and_worktree_has_no_findings(
        tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream")
    repo = make_repo(tmp_path / "repo")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(upstream),
        "lib")
    git(repo, "commit", "-q", "-m", "sub")
    git(repo, "worktree", "add", "-q", "wt")
    git(repo, "worktree", "add", "-q", str(tmp_path / "outside"))
    git(repo, "config", "extensions.worktreeConfig", "true")
    git(repo, "sparse-checkout", "init", "-q", check=False)  # writes config.worktree
    assert gitguard.quick(str(repo)) == []
    assert gitguard.scan(str(repo)) == []


@pytest.mark.parametrize(("name", "found", "quick"), [
    ("commondir", ".git/commondir", True),
    ("nested", "sub/.git/config", False),
    ("nested-in-node_modules", "node_modules/evil/.git/config", False),
    ("nested-in-quarantine-name", "x.wrapix-quarantine-1/sub/.git/config", False),
    ("worktree", ".git/worktrees/w/commondir", True),
    ("config.worktree", ".git/config.worktree", True),
])
def test_planted_redirection_is_found_and_moved_aside(tmp_path: Path, name: str, found: str,
                                                      quick: bool) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "core.repositoryformatversion", "1")
    git(repo, "config", "extensions.worktreeConfig", "true")
    mark = tmp_path / "mark"
    plant(repo, name, mark)
    where = repo / "w" if name == "worktree" else repo
    git(where, "status", check=False)
    assert mark.exists(), "the attack does not work, so this test proves nothing"
    mark.unlink()

    assert found in paths(gitguard.scan(str(repo)))
    assert (found in paths(gitguard.quick(str(repo)))) is quick  # quick: no tree walk
    moved = gitguard.neutralise(str(repo), gitguard.scan(str(repo)), now=0)
    assert moved and all(new.endswith(".wrapix-quarantine-19700101T000000")
                         for _, new in moved)
    assert all((repo / new).exists() for _, new in moved)  # moved, never deleted
    assert gitguard.scan(str(repo)) == []
    git(where, "status", check=False)
    git(repo, "status", check=False)
    assert not mark.exists()


def test_a_planted_hook_in_a_common_dir_would_run_on_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plant(repo, "commondir", tmp_path / "mark")
    git(repo, "commit", "-q", "--allow-empty", "-m", "x", check=False)
    assert (tmp_path / "mark.hook").exists()  # what `wrapix audit` is there to prevent


def test_links_are_findings_and_never_followed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    outside = tmp_path / "outside.config"
    outside.write_text("[core]\n\tfsmonitor = evil\n")
    (repo / ".git" / "config.worktree").symlink_to(outside)
    (repo / ".git" / "objects-elsewhere").symlink_to(tmp_path)
    nested = make_repo(repo / "sub")
    (nested / ".git" / "hooks" / "post-checkout").symlink_to("/bin/true")
    found = {f.path: f for f in gitguard.scan(str(repo))}
    assert found[".git/config.worktree"].what == "symlink"
    assert found[".git/objects-elsewhere"].what == "symlink"
    assert found["sub/.git/hooks/post-checkout"].what == "hook"
    gitguard.neutralise(str(repo), list(found.values()))
    assert outside.read_text() == "[core]\n\tfsmonitor = evil\n"  # the target untouched
    assert not (repo / "sub" / ".git").exists()
    assert any(p.name.startswith(".git.wrapix-quarantine-") for p in (repo / "sub").iterdir())


def test_submodule_config_is_checked_and_core_worktree_only_outside(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream")
    repo = make_repo(tmp_path / "repo")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(upstream),
        "lib")
    config = repo / ".git" / "modules" / "lib" / "config"
    assert "worktree" in config.read_text()  # git's own core.worktree: no finding
    with config.open("a") as handle:
        handle.write("[core]\n\tworktree = /home\n")
    found = gitguard.quick(str(repo))
    assert paths(found) == [".git/modules/lib/config"]
    assert "core.worktree" in found[0].why


def test_audit_command_lists_fixes_and_exits_by_what_it_found(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    wrapix = script("wrapix")

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([wrapix, "audit", *args, str(repo)], capture_output=True,
                              text=True, timeout=60, check=False)

    clean = audit()
    assert clean.returncode == 0 and "no git redirection found" in clean.stdout
    plant(repo, "commondir", tmp_path / "mark")
    listed = audit()
    assert listed.returncode == 2 and ".git/commondir" in listed.stdout
    assert "wrapix audit --fix" in listed.stdout
    assert '"path": ".git/commondir"' in audit("--json").stdout
    refused = subprocess.run([wrapix, "audit", "--fix", str(repo)], input="n\n",
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and (repo / ".git" / "commondir").exists()
    fixed = audit("--fix", "--yes")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "moved .git/commondir to .git/commondir.wrapix-quarantine-" in fixed.stdout
    assert not (repo / ".git" / "commondir").exists()


def test_launch_is_refused_naming_the_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plant(repo, "commondir", tmp_path / "mark")
    done = subprocess.run([script("wrapix"), "run", "--dry-run", str(repo)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert ".git/commondir (commondir)" in done.stderr
    assert f"wrapix audit {repo}" in done.stderr
