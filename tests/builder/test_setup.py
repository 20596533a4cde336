"""Setup steps: the exact privileged argv (sudo and macOS routes cannot run here, so
those are checked at the argv level), and the same ssh steps run for real, without
sudo, against files in a temporary directory."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from wrapix_core import proc
from wrapix_core.builder import keys as builder_keys
from wrapix_core.builder import setup
from wrapix_core.builder.errors import SetupError
from wrapix_core.builder.setup import Step
from wrapix_core.settings import BuilderSettings

SETTINGS = BuilderSettings(port=2345)


@pytest.fixture
def keys() -> builder_keys.Keys:
    made, _ = asyncio.run(builder_keys.ensure())
    return made


def test_ssh_steps_are_sudo_argv_with_their_input(keys: builder_keys.Keys) -> None:
    steps = setup.ssh_steps(SETTINGS, keys, home=Path("/var/root"))
    argvs = [step.argv for step in steps]
    assert argvs == [
        ("sudo", "install", "-d", "-m", "0700", "/var/root/.ssh"),
        ("sudo", "touch", "/var/root/.ssh/known_hosts"),
        ("sudo", "ssh-keygen", "-R", "wrapix-builder", "-f", "/var/root/.ssh/known_hosts"),
        ("sudo", "tee", "-a", "/var/root/.ssh/known_hosts"),
        ("sudo", "install", "-d", "-m", "0755", "/etc/ssh/ssh_config.d"),
        ("sudo", "tee", "/etc/ssh/ssh_config.d/wrapix-builder.conf"),
        ("sudo", "chmod", "0644", "/etc/ssh/ssh_config.d/wrapix-builder.conf"),
        ("sudo", "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "wrapix-builder",
         "true"),
    ]
    assert steps[3].input == keys.known_hosts_line()
    assert steps[5].input is not None
    assert f"IdentityFile {keys.client}" in steps[5].input
    assert "Port 2345" in steps[5].input
    assert steps[-1].check and not any(step.check for step in steps[:-1])


def test_without_the_builder_running_the_login_check_is_left_out(
        keys: builder_keys.Keys) -> None:
    steps = setup.ssh_steps(SETTINGS, keys, verify=False)
    assert not any(step.argv[1:2] == ("ssh",) for step in steps)


def test_root_needs_no_sudo() -> None:
    assert setup.sudo_prefix(euid=0) == ()
    assert setup.sudo_prefix(euid=1000) == ("sudo",)


def test_macos_route_steps_replace_a_stale_route() -> None:
    steps = setup.route_steps("192.168.64.0/24", "bridge100")
    assert [step.argv for step in steps] == [
        ("sudo", "route", "-n", "delete", "-net", "192.168.64.0/24"),
        ("sudo", "route", "-n", "add", "-net", "192.168.64.0/24", "-interface", "bridge100"),
    ]
    assert steps[0].may_fail and not steps[1].may_fail


def test_render_prints_every_command_and_what_it_writes(keys: builder_keys.Keys) -> None:
    steps = setup.ssh_steps(SETTINGS, keys, home=Path("/root"))
    text = setup.render(steps)
    for number, step in enumerate(steps, 1):
        assert f"{number}. {step.description}" in text
        assert proc.describe(step.argv) in text
    assert keys.host_public_key() in text  # the known_hosts line that will be appended


def test_ssh_steps_really_run_and_can_be_repeated(keys: builder_keys.Keys,
                                                  tmp_path: Path) -> None:
    home = tmp_path / "root-home"
    config_file = tmp_path / "etc" / "ssh" / "ssh_config.d" / "wrapix-builder.conf"
    steps = setup.ssh_steps(SETTINGS, keys, home=home, sudo=(), verify=False,
                            config_file=config_file)
    known = home / ".ssh" / "known_hosts"
    for _ in range(2):  # every step is safe to repeat
        asyncio.run(setup.run_steps(steps, runner=lambda step: proc.run(
            step.argv, timeout=30, input=step.input)))
    assert (home / ".ssh").stat().st_mode & 0o777 == 0o700
    assert known.read_text().count("wrapix-builder ") == 1
    assert known.read_text().strip() == keys.known_hosts_line().strip()
    assert config_file.stat().st_mode & 0o777 == 0o644
    # ssh itself reads the entry: the alias resolves to the builder's address and key.
    resolved = subprocess.run(["ssh", "-G", "-F", str(config_file), "wrapix-builder"],
                              capture_output=True, text=True, check=True, timeout=30).stdout
    assert "hostname 127.0.0.1" in resolved
    assert "port 2345" in resolved
    assert "user builder" in resolved
    assert f"identityfile {keys.client}" in resolved
    assert "hostkeyalias wrapix-builder" in resolved


def test_a_failed_step_says_which_and_what_was_made() -> None:
    ran: list[int] = []

    async def runner(step: Step) -> proc.Completed:
        ran.append(len(ran) + 1)
        if len(ran) == 3:
            raise proc.CommandFailed(step.argv, 1, "tee: /etc/x: Read-only file system")
        return proc.Completed(list(step.argv), 0, "", "")

    steps = [Step(f"step {n}", ("sudo", "true")) for n in range(1, 5)]
    with pytest.raises(SetupError) as caught:
        asyncio.run(setup.run_steps(steps, runner=runner))
    assert ran == [1, 2, 3]
    assert "setup step 3 failed (step 3): tee: /etc/x: Read-only file system" in str(caught.value)
    assert "steps 1-2 were made" in str(caught.value)


def test_an_expected_failure_does_not_stop_setup() -> None:
    ran: list[str] = []

    async def runner(step: Step) -> proc.Completed:
        ran.append(step.description)
        if step.may_fail:
            raise proc.CommandFailed(step.argv, 1, "route: not in table")
        return proc.Completed(list(step.argv), 0, "", "")

    asyncio.run(setup.run_steps(setup.route_steps("192.168.64.0/24"), runner=runner))
    assert len(ran) == 2


def test_sudo_refusal_is_named() -> None:
    async def runner(step: Step) -> proc.Completed:
        raise proc.CommandFailed(step.argv, 1, "alice is not in the sudoers file.")

    with pytest.raises(SetupError, match="sudo refused step 1"):
        asyncio.run(setup.run_steps([Step("x", ("sudo", "true"))], runner=runner))


def test_missing_sudo_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match="needs sudo, which is not installed"):
        setup.require_sudo(("sudo",))
    setup.require_sudo(())  # root: nothing to require


def test_run_in_terminal_captures_output_and_times_out() -> None:
    done = asyncio.run(proc.run_in_terminal(["cat"], timeout=10, input="piped\n"))
    assert done.stdout == "piped\n"
    with pytest.raises(proc.CommandTimeout):
        asyncio.run(proc.run_in_terminal(["sleep", "30"], timeout=0.5))
    with pytest.raises(proc.CommandFailed):
        asyncio.run(proc.run_in_terminal(["false"], timeout=10))
