"""The Podman launch plan, flag by flag (docs/architecture.md, The workspace is hostile)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.sandbox.factories import HOME, WS, facts, spec
from wrapix_core.profiles import Mount, Profile
from wrapix_core.sandbox.model import RalphEnv, RuntimeCaps, StagingAction
from wrapix_core.sandbox.plan import PlanError, plan_podman
from wrapix_core.settings import SandboxSettings


def plan(spec_=None, settings=None, **fact_changes):  # type: ignore[no-untyped-def]
    spec_ = spec_ or spec()
    settings = settings or SandboxSettings()
    return plan_podman(spec_, facts(spec_, settings, **fact_changes), settings)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def flags(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == name]


def volumes(argv: list[str]) -> list[str]:
    return flags(argv, "-v")


def env(argv: list[str]) -> dict[str, str]:
    pairs = [item.partition("=") for item in flags(argv, "-e")]
    return {name: value for name, sep, value in pairs if sep}


def test_basics_name_image_workdir_and_order() -> None:
    argv = plan().argv
    assert argv[:2] == ["podman", "run"]
    assert flag(argv, "--name") == "wrapix-proj-abc123"
    assert flag(argv, "-w") == "/workspace"
    assert argv[-1] == "localhost/img:1"


def test_command_follows_the_image() -> None:
    argv = plan(spec(command=("sh", "-c", "echo hi"))).argv
    assert argv[-4:] == ["localhost/img:1", "sh", "-c", "echo hi"]


def test_user_namespace_passwd_and_tmpfs_home() -> None:
    argv = plan().argv
    assert "--userns=keep-id" in argv
    assert flag(argv, "--passwd-entry") == "alice:*:1000:1000:wrapix sandbox:/home/alice:/bin/sh"
    tmpfs = flag(argv, "--tmpfs")
    assert tmpfs.startswith("/home/alice:") and "mode=0700" in tmpfs and tmpfs.endswith(",U")


def test_passwd_entry_omitted_when_unsupported() -> None:
    s = spec()
    old = RuntimeCaps(version="4.1.0", passwd_entry=False)
    argv = plan_podman(s, facts(s, caps=old), SandboxSettings()).argv
    assert "--passwd-entry" not in argv


def test_hardening() -> None:
    argv = plan().argv
    assert flag(argv, "--security-opt") == "no-new-privileges"
    assert flag(argv, "--cap-drop") == "all"
    joined = " ".join(argv)
    for forbidden in ("--privileged", "--pid=host", "--ipc=host", "--network=host",
                      "podman.sock", "--cap-add"):
        assert forbidden not in joined
    assert flag(argv, "--network") != "host"


@pytest.mark.parametrize(("nproc", "expected"), [(1, "1"), (2, "2"), (3, "2"), (8, "4"),
                                                  (64, "32")])
def test_cpus_default_is_half_the_cores_at_least_two(nproc: int, expected: str) -> None:
    assert flag(plan(nproc=nproc).argv, "--cpus") == expected


def test_limits_default_and_from_settings() -> None:
    argv = plan().argv
    assert flag(argv, "--memory") == "4096m"
    assert flag(argv, "--pids-limit") == "4096"
    custom = plan(settings=SandboxSettings(cpus=1.5, memory="8g", pids_limit=500)).argv
    assert (flag(custom, "--cpus"), flag(custom, "--memory"),
            flag(custom, "--pids-limit")) == ("1.5", "8g", "500")
    assert "wrapix.limits=cpus=1.5,memory=8g,pids=500" in flags(custom, "--label")


def test_cgroup_v1_limits_warning() -> None:
    s = spec()
    v1 = RuntimeCaps(version="4.3.1", cgroup_v1=True, rootless=True)
    result = plan_podman(s, facts(s, caps=v1), SandboxSettings())
    assert any("cgroup v1" in warning for warning in result.warnings)
    assert not any("cgroup" in w for w in plan().warnings)


def test_network_pasta_when_supported_else_slirp() -> None:
    assert flag(plan().argv, "--network") == "pasta"
    s = spec()
    old = RuntimeCaps(version="4.3.1", pasta=False)
    assert flag(plan_podman(s, facts(s, caps=old), SandboxSettings()).argv,
                "--network") == "slirp4netns"
    with pytest.raises(PlanError, match="cannot use pasta"):
        plan_podman(s, facts(s, caps=old), SandboxSettings(network="pasta"))


def test_labels() -> None:
    labels = flags(plan(spec(profile=Profile(name="rust"))).argv, "--label")
    assert "wrapix.sandbox=1" in labels
    assert "wrapix.profile=rust" in labels
    assert f"wrapix.workspace={WS}" in labels


def test_workspace_claude_and_protected_git_paths() -> None:
    result = plan()
    vols = volumes(result.argv)
    assert vols[0] == f"{WS}:/workspace:rw"
    assert f"{WS}/.claude:/home/alice/.claude:rw" in vols
    # Also onto itself: a mount point the agent cannot remove and replace with a link.
    assert f"{WS}/.claude:/workspace/.claude:rw" in vols
    assert f"{WS}/.git/hooks:/workspace/.git/hooks:ro" in vols
    assert f"{WS}/.git/config:/workspace/.git/config:ro" in vols
    # Nested read-only mounts come after the workspace they cover.
    assert vols.index(f"{WS}/.git/hooks:/workspace/.git/hooks:ro") > 0


def test_claude_dir_created_when_missing_and_git_paths_skipped_when_absent() -> None:
    # Not a git repository: nothing of .git is mounted (or created).
    result = plan(missing={f"{WS}/.claude", f"{WS}/.git", f"{WS}/.git/hooks",
                           f"{WS}/.git/config"})
    assert [(a.kind, a.target) for a in result.staging] == [("mkdir", WS / ".claude")]
    assert not any(".git" in v for v in volumes(result.argv))


def test_protected_paths_cannot_be_renamed_away() -> None:
    # `mv .git .git-old && mkdir .git && echo evil > .git/config` would otherwise leave
    # the host a .git/config of the agent's: the directories above protected paths are
    # mounted onto themselves (a mount point cannot be renamed), before what they hold.
    vols = volumes(plan().argv)
    pin = f"{WS}/.git:/workspace/.git:rw"
    assert vols.count(pin) == 1
    assert vols.index(pin) < vols.index(f"{WS}/.git/hooks:/workspace/.git/hooks:ro")
    assert vols.index(pin) < vols.index(f"{WS}/.git/config:/workspace/.git/config:ro")


def test_wrapix_files_read_on_the_host_are_protected() -> None:
    # wrapix.toml and .wrapix/ (Ralph's config, prompts, state) are read on the host:
    # an agent that could write them would choose what runs there next time.
    vols = volumes(plan(files={f"{WS}/wrapix.toml"}).argv)
    assert f"{WS}/wrapix.toml:/workspace/wrapix.toml:ro" in vols
    assert f"{WS}/.wrapix:/workspace/.wrapix:ro" in vols
    # Missing: .wrapix and the hooks of a repository are created (empty) and protected;
    # a missing wrapix.toml is not created.
    result = plan(missing={f"{WS}/.wrapix", f"{WS}/.git/hooks", f"{WS}/wrapix.toml"})
    assert [(a.kind, a.target) for a in result.staging] == [
        ("mkdir", WS / ".git/hooks"), ("mkdir", WS / ".wrapix")]
    vols = volumes(result.argv)
    assert f"{WS}/.wrapix:/workspace/.wrapix:ro" in vols
    assert f"{WS}/.git/hooks:/workspace/.git/hooks:ro" in vols
    assert not any("wrapix.toml" in v for v in vols)


def test_ralph_dir_elsewhere_in_the_workspace_is_protected() -> None:
    vols = volumes(plan(spec(ralph=RalphEnv("step", (), "state/ralph"))).argv)
    assert f"{WS}/state:/workspace/state:rw" in vols
    assert f"{WS}/state/ralph:/workspace/state/ralph:ro" in vols
    # Inside .wrapix (the default) it is covered; outside the workspace there is nothing
    # to protect.
    default = volumes(plan(spec(ralph=RalphEnv("step"))).argv)
    assert not any(".wrapix/ralph" in v for v in default)
    assert volumes(plan(spec(ralph=RalphEnv("step", (), "/elsewhere/ralph"))).argv) == \
        volumes(plan().argv)


def test_a_git_file_is_mounted_read_only() -> None:
    # A worktree's .git is a file naming the real git directory: the agent must not
    # point it at a directory of its own.
    vols = volumes(plan(files={f"{WS}/.git"}, missing={f"{WS}/.git/hooks",
                                                       f"{WS}/.git/config"}).argv)
    assert vols.count(f"{WS}/.git:/workspace/.git:ro") == 1
    assert not any("/.git/" in v for v in vols)


def test_protected_paths_leading_out_of_the_workspace_are_refused() -> None:
    # A link planted by an earlier session (when the path was not protected yet) would
    # otherwise mount whatever it points to into the sandbox.
    with pytest.raises(PlanError, match="leads out of the workspace"):
        plan(files={f"{WS}/wrapix.toml"},
             resolved={f"{WS}/wrapix.toml": f"{HOME}/.ssh/id_ed25519"})
    with pytest.raises(PlanError, match="leads out of the workspace"):
        plan(resolved={f"{WS}/.git": "/elsewhere/repo.git"})


@pytest.mark.parametrize("target", [str(HOME / ".config/wrapix"), "/etc", str(WS / "other")])
def test_a_claude_link_is_refused_wherever_it_leads(target: str) -> None:
    with pytest.raises(PlanError, match=r"\.claude is not a directory of the workspace"):
        plan(resolved={f"{WS}/.claude": target})


def test_a_claude_file_is_refused() -> None:
    with pytest.raises(PlanError, match=r"\.claude is not a directory of the workspace"):
        plan(files={f"{WS}/.claude"})


def test_a_protected_path_linked_within_the_workspace_is_refused() -> None:
    with pytest.raises(PlanError, match="leads elsewhere in the workspace"):
        plan(resolved={f"{WS}/.wrapix": str(WS / "mine")})


def test_the_tmpfs_home_has_a_size_from_memory_or_its_own_setting() -> None:
    assert ",size=4096m," in flag(plan().argv, "--tmpfs")
    assert ",size=2g," in flag(plan(settings=SandboxSettings(memory="2G")).argv, "--tmpfs")
    sized = plan(settings=SandboxSettings(memory="8g", home_size="512MiB")).argv
    assert ",size=512m," in flag(sized, "--tmpfs")
    for bad in ("lots", "0", "1g,uid=0", "-1m"):
        with pytest.raises(PlanError, match="is not a size"):
            plan(settings=SandboxSettings(home_size=bad))


def test_claude_dir_that_exposes_the_host_is_refused() -> None:
    with pytest.raises(PlanError, match=r"\.claude"):
        plan(resolved={f"{WS}/.claude": str(HOME)})


@pytest.mark.parametrize("name", ["..", "../../..", "a/b", "-rm", ".hidden", ""])
def test_invalid_names_are_refused_before_they_name_a_staging_directory(name: str) -> None:
    # The staging directory is cache/staging/NAME and is cleared (rmtree) at launch.
    staged = Mount(source="/home/alice/dots", dest="~/dots")
    with pytest.raises(PlanError, match="name"):
        plan(spec(name=name, mounts=(staged,)), staged={"/home/alice/dots"})


def test_extra_readonly_paths_from_settings_cannot_drop_protected_ones() -> None:
    settings = SandboxSettings(readonly_paths=["Makefile"])
    vols = volumes(plan(settings=settings).argv)
    assert f"{WS}/Makefile:/workspace/Makefile:ro" in vols
    assert f"{WS}/.git/hooks:/workspace/.git/hooks:ro" in vols
    with pytest.raises(PlanError, match="readonly path"):
        plan(settings=SandboxSettings(readonly_paths=["../outside"]))


def test_known_hosts_and_system_prompt_readonly() -> None:
    vols = volumes(plan().argv)
    assert "/pkg/known_hosts:/etc/ssh/ssh_known_hosts:ro" in vols
    assert "/pkg/prompt.md:/etc/wrapix/system-prompt.md:ro" in vols


def test_only_the_sandboxs_own_socket_directory_is_mounted() -> None:
    # Never the runtime directory itself (without XDG_RUNTIME_DIR that is the data
    # directory, with the builder's keys): the sandbox's own directory, made before the
    # start and removed after the end, whether or not a daemon runs yet.
    own = Path("/run/user/1000/wrapix/sockets/wrapix-proj-abc123")
    for daemon in (True, False):
        planned = plan(notify_dir=own, notify_daemon=daemon)
        mounted = [v for v in volumes(planned.argv) if ":/run/wrapix:" in v]
        assert mounted == [f"{own}:/run/wrapix:ro"]
        assert [a for a in planned.staging if a.kind == "socketdir"] == [
            StagingAction("socketdir", own)]
        assert any("wrapix-notifyd" in w for w in planned.warnings) is not daemon
    unsupported = plan()  # no socket directory (not Podman): nothing mounted there
    assert not any(":/run/wrapix:" in v for v in volumes(unsupported.argv))


def test_deploy_and_signing_keys() -> None:
    result = plan(deploy_key=HOME / ".ssh/deploy_keys/proj",
                  signing_key=HOME / ".ssh/deploy_keys/proj-signing")
    vols = volumes(result.argv)
    assert f"{HOME}/.ssh/deploy_keys/proj:/run/wrapix-keys/deploy_key:ro" in vols
    assert f"{HOME}/.ssh/deploy_keys/proj-signing:/run/wrapix-keys/signing_key:ro" in vols
    e = env(result.argv)
    assert e["WRAPIX_DEPLOY_KEY"] == "/run/wrapix-keys/deploy_key"
    assert e["WRAPIX_SIGNING_KEY"] == "/run/wrapix-keys/signing_key"
    assert "WRAPIX_DEPLOY_KEY" not in env(plan().argv)


def test_environment() -> None:
    e = env(plan(git_name="Ada", git_email="ada@example.org", session_id="main:1.0",
                 term="xterm-256color").argv)
    assert e["HOME"] == "/home/alice"
    assert (e["GIT_AUTHOR_NAME"], e["GIT_AUTHOR_EMAIL"]) == ("Ada", "ada@example.org")
    assert (e["GIT_COMMITTER_NAME"], e["GIT_COMMITTER_EMAIL"]) == ("Ada", "ada@example.org")
    assert e["WRAPIX_SESSION_ID"] == "main:1.0"
    assert e["BD_NO_DAEMON"] == "1"
    assert e["WRAPIX_GIT_SIGN"] == "1"
    assert e["TERM"] == "xterm-256color"
    defaults = env(plan().argv)
    assert defaults["GIT_AUTHOR_NAME"] == "Wrapix Sandbox"
    assert defaults["GIT_AUTHOR_EMAIL"] == "sandbox@wrapix.dev"
    assert env(plan(settings=SandboxSettings(git_sign=False)).argv)["WRAPIX_GIT_SIGN"] == "0"


def test_ralph_environment() -> None:
    e = env(plan(spec(ralph=RalphEnv(cmd="step", args=("demo", "--x y")))).argv)
    assert e["RALPH_MODE"] == "1"
    assert e["RALPH_CMD"] == "step"
    assert e["RALPH_ARGS"] == "demo '--x y'"
    assert e["RALPH_DIR"] == ".wrapix/ralph"


def test_env_layers_profile_settings_user_and_container_expansion() -> None:
    profile = Profile(name="p", env={"A": "profile", "B": "profile", "C": "~/.c"})
    settings = SandboxSettings(env={"B": "settings", "D": "settings"})
    e = env(plan(spec(profile=profile, env={"D": "user", "E": "$HOME/e"}), settings).argv)
    assert (e["A"], e["B"], e["D"]) == ("profile", "settings", "user")
    assert e["C"] == "/home/alice/.c"
    assert e["E"] == "/home/alice/e"


def test_env_values_are_single_argv_items_never_shell() -> None:
    nasty = "$(rm -rf ~); `id` && echo 'x\"y' \n next"
    argv = plan(spec(env={"NASTY": nasty})).argv
    assert f"NASTY={nasty}" in argv


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A B", "", "A=B", "é", "OK\n", "A\nB"])
def test_env_names_validated(name: str) -> None:
    with pytest.raises(PlanError, match="not an identifier"):
        plan(spec(env={name: "x"}))


def test_secrets_by_name_never_in_argv() -> None:
    result = plan(secrets={"CLAUDE_CODE_OAUTH_TOKEN": "sk-secret", "OTHER": "no"})
    assert "sk-secret" not in " ".join(result.argv)
    assert flags(result.argv, "-e").count("CLAUDE_CODE_OAUTH_TOKEN") == 1
    assert result.env == {"CLAUDE_CODE_OAUTH_TOKEN": "sk-secret"}
    assert result.to_json()["env"] == {"CLAUDE_CODE_OAUTH_TOKEN": "<redacted>"}


def test_profile_mounts_expand_and_optional_skip() -> None:
    profile = Profile(name="p", mounts=(
        Mount(source="~/.cargo/registry", dest="~/.cargo/registry", mode="ro", optional=True),
        Mount(source="$HOME/data", dest="/data", mode="rw"),
        Mount(source="~/gone", dest="/gone", optional=True),
    ))
    result = plan(spec(profile=profile), missing={str(HOME / "gone")})
    vols = volumes(result.argv)
    assert f"{HOME}/.cargo/registry:/home/alice/.cargo/registry:ro" in vols
    assert f"{HOME}/data:/data:rw" in vols
    assert not any("gone" in v for v in vols)


def test_missing_required_mount_names_it() -> None:
    profile = Profile(name="p", mounts=(Mount(source="~/needed", dest="/n"),))
    with pytest.raises(PlanError, match=r"/home/alice/needed does not exist"):
        plan(spec(profile=profile), missing={str(HOME / "needed")})


def test_mount_sources_are_not_shell_expanded() -> None:
    profile = Profile(name="p", mounts=(Mount(source="/srv/$(id)/`x`", dest="/d"),))
    assert "/srv/$(id)/`x`:/d:ro" in volumes(plan(spec(profile=profile)).argv)


@pytest.mark.parametrize("source", ["/", "/home", "~", "$HOME", "~/.ssh", "~/.ssh/config",
                                    "/run/user/1000/podman", "/run/user/1000/podman/podman.sock"])
def test_host_exposing_mounts_refused_unless_allowed(source: str) -> None:
    profile = Profile(name="p", mounts=(Mount(source=source, dest="/x"),))
    with pytest.raises(PlanError, match="refused") as info:
        plan(spec(profile=profile))
    assert "--allow-host-mount" in str(info.value)
    allowed = plan(spec(profile=profile, allow_host_mounts=True))
    assert any(v.endswith(":/x:ro") for v in volumes(allowed.argv))


def test_symlink_to_home_is_refused_by_its_target() -> None:
    profile = Profile(name="p", mounts=(Mount(source="/tmp/innocent", dest="/x"),))
    with pytest.raises(PlanError, match="whole home"):
        plan(spec(profile=profile), resolved={"/tmp/innocent": str(HOME)})


def test_workspace_that_is_home_is_refused() -> None:
    with pytest.raises(PlanError, match="workspace"):
        plan(spec(workspace=HOME))


def test_workspace_missing_or_not_a_directory() -> None:
    with pytest.raises(PlanError, match="does not exist"):
        plan(missing={str(WS)})
    with pytest.raises(PlanError, match="not a directory"):
        plan(files={str(WS)})


def test_staging_for_directories_with_escaping_symlinks() -> None:
    profile = Profile(name="p", mounts=(Mount(source="~/.config/nvim", dest="~/.config/nvim"),
                                        Mount(source="~/plain", dest="/plain")))
    result = plan(spec(profile=profile), staged={str(HOME / ".config/nvim")})
    root = Path("/cache/staging/wrapix-proj-abc123")
    assert [a.to_json() for a in result.staging] == [
        {"action": "clear", "target": str(root)},
        {"action": "copy", "target": str(root / "1-nvim"), "source": str(HOME / ".config/nvim")},
    ]
    vols = volumes(result.argv)
    assert f"{root}/1-nvim:/home/alice/.config/nvim:ro" in vols
    assert f"{HOME}/plain:/plain:ro" in vols  # no staging: mounted directly


def test_paths_with_colons_refused() -> None:
    profile = Profile(name="p", mounts=(Mount(source="/a:b", dest="/x"),))
    with pytest.raises(PlanError, match="':'"):
        plan(spec(profile=profile))


def test_duplicate_destinations_refused() -> None:
    profile = Profile(name="p", mounts=(Mount(source="/a", dest="/x"),
                                        Mount(source="/b", dest="/x")))
    with pytest.raises(PlanError, match="two mounts target /x"):
        plan(spec(profile=profile))


def test_detached_vs_foreground_flags() -> None:
    fg = plan(spec(detach=False, remove=True, tty=True)).argv
    assert {"--rm", "-i", "-t"} <= set(fg) and "-d" not in fg
    bg = plan(spec(detach=True, remove=False, tty=True)).argv
    assert {"-d", "-i", "-t"} <= set(bg) and "--rm" not in bg
    assert flag(bg, "--detach-keys") == "ctrl-p,ctrl-q"


def test_init_when_available() -> None:
    assert "--init" in plan().argv
    s = spec()
    argv = plan_podman(s, facts(s, caps=replace(RuntimeCaps(), init=False)),
                       SandboxSettings()).argv
    assert "--init" not in argv


def test_linked_worktree_config_is_protected_and_never_created() -> None:
    # .git/worktrees/NAME/commondir and config.worktree steer git (issue 13): an empty,
    # read-only .git/worktrees leaves the agent none to plant; an existing config.worktree
    # is read-only; a missing one is neither created nor mounted (the runtime would create
    # the mount point on the host), gitguard detects it instead.
    result = plan(files={f"{WS}/.git/config.worktree"}, missing={f"{WS}/.git/worktrees"})
    assert ("mkdir", WS / ".git/worktrees") in [(a.kind, a.target) for a in result.staging]
    vols = volumes(result.argv)
    assert f"{WS}/.git/worktrees:/workspace/.git/worktrees:ro" in vols
    assert f"{WS}/.git/config.worktree:/workspace/.git/config.worktree:ro" in vols
    result = plan(missing={f"{WS}/.git/config.worktree"})
    assert not any("config.worktree" in v for v in volumes(result.argv))
    assert all("config.worktree" not in str(a.target) for a in result.staging)
