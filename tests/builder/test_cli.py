"""`wrapix-builder` without a working runtime, and the setup/config commands.

Setup's privileged steps need sudo (and macOS for routes), which this machine does not
give the tests: a recording ``sudo`` stand-in on PATH checks that the CLI hands sudo the
exact commands and input it printed, and nothing else runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import script

MISSING = {"WRAPIX_SANDBOX__PODMAN": "/nonexistent/podman"}


def cli(*args: str, env: dict[str, str] | None = None,
        path: str | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **MISSING, **(env or {})}
    if path is not None:
        full["PATH"] = path
    return subprocess.run([script("wrapix-builder"), *args], capture_output=True, text=True,
                          timeout=120, check=False, env=full, stdin=subprocess.DEVNULL)


def data() -> Path:
    return Path(os.environ["WRAPIX_DATA_DIR"])


def test_missing_runtime_is_one_line_and_nothing_is_created() -> None:
    done = cli("start")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert errors == ["wrapix-builder: error: podman (/nonexistent/podman) is not installed: "
                      "install rootless Podman (Debian: apt install podman runc uidmap "
                      "slirp4netns) or set sandbox.podman to its path"]
    assert not (data() / "builder-keys").exists()
    assert not (data() / "builder-nix").exists()
    assert cli("stop").returncode == 2
    assert cli("ssh", "true").returncode == 2


def test_status_json_reports_a_runtime_it_cannot_ask() -> None:
    done = cli("status", "--json")
    assert done.returncode == 1
    status = json.loads(done.stdout)
    assert status["state"] == "not-created"
    assert "not installed" in status["error"]
    assert status["keys"] == str(data() / "builder-keys")
    assert status["store"] == str(data() / "builder-nix")
    assert status["store_bytes"] == 0
    assert status["ssh"].startswith(f"ssh -i {data() / 'builder-keys' / 'client_ed25519'} -p 2222 ")


def test_status_error_from_the_runtime_cannot_drive_the_terminal(tmp_path: Path) -> None:
    podman = tmp_path / "podman"
    podman.write_text("#!/bin/sh\nprintf 'bad\\033]0;owned\\007' >&2; exit 3\n")
    podman.chmod(0o755)
    done = cli("status", env={"WRAPIX_SANDBOX__PODMAN": str(podman)})
    assert done.returncode == 1
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]0;owned" in done.stdout


def test_config_generates_keys_once_and_prints_this_machines_paths() -> None:
    first = cli("config", env={"WRAPIX_BUILDER__PORT": "2345"})
    assert first.returncode == 0, first.stderr
    assert "generated the builder keys" in first.stderr
    key = data() / "builder-keys" / "client_ed25519"
    assert f"IdentityFile {key}" in first.stdout
    assert "Port 2345" in first.stdout
    assert f'sshKey = "{key}";' in first.stdout
    assert "builders = ssh-ng://builder@wrapix-builder " in first.stdout
    second = cli("config", env={"WRAPIX_BUILDER__PORT": "2345"})
    assert second.stderr == ""
    assert second.stdout == first.stdout


def test_setup_without_keys_says_to_start_first() -> None:
    done = cli("setup", "--dry-run")
    assert done.returncode == 2
    assert "there are no builder keys" in done.stderr
    assert "wrapix-builder start" in done.stderr


def test_setup_dry_run_prints_every_change_and_makes_none(tmp_path: Path) -> None:
    assert cli("config").returncode == 0
    done = cli("setup", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "routes: nothing to do on Linux" in done.stderr
    assert "final login check is left out" in done.stderr
    sudo = "" if os.geteuid() == 0 else "sudo "
    assert f"$ {sudo}tee /etc/ssh/ssh_config.d/wrapix-builder.conf" in done.stdout
    assert f"$ {sudo}ssh-keygen -R wrapix-builder -f " in done.stdout
    host_key = (data() / "builder-keys" / "host_ed25519.pub").read_text().split()[1]
    assert f"wrapix-builder ssh-ed25519 {host_key}" in done.stdout
    routes = cli("setup-routes", "--dry-run")
    assert routes.returncode == 0
    assert routes.stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="as root, setup would change this machine "
                    "(CI runs the tests unprivileged)")
def test_setup_without_sudo_is_a_clear_error(tmp_path: Path) -> None:
    assert cli("config").returncode == 0
    bare = tmp_path / "bin"
    bare.mkdir()
    done = cli("setup", "--yes", path=str(bare))
    assert done.returncode == 2
    assert "setup makes privileged changes and needs sudo, which is not installed" in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="as root, setup runs without sudo and would "
                    "change this machine (CI runs the tests unprivileged)")
def test_setup_asks_first_and_hands_sudo_exactly_what_it_printed(tmp_path: Path) -> None:
    assert cli("config").returncode == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sudo.log"
    (bin_dir / "sudo").write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "data = sys.stdin.read() if not sys.stdin.isatty() else None\n"
        f"with open({str(log)!r}, 'a') as handle:\n"
        "    handle.write(json.dumps({'argv': sys.argv[1:], 'input': data}) + '\\n')\n")
    (bin_dir / "sudo").chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"

    asked = cli("setup-ssh", path=path)
    assert asked.returncode == 2
    assert "no terminal to ask on" in asked.stderr
    assert not log.exists()  # nothing ran without an answer

    done = cli("setup-ssh", "--yes", path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("setup done\n")
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    printed = [line.strip().removeprefix("$ sudo ") for line in done.stdout.splitlines()
               if line.strip().startswith("$ ")]
    assert [" ".join(call["argv"]) for call in calls] == printed
    keys = data() / "builder-keys"
    appended = next(call for call in calls if call["argv"][:2] == ["tee", "-a"])
    host_key = " ".join((keys / "host_ed25519.pub").read_text().split()[:2])
    assert appended["input"] == f"wrapix-builder {host_key}\n"
    config = next(call for call in calls if call["argv"][0] == "tee" and call["argv"][1] != "-a")
    assert f"IdentityFile {keys / 'client_ed25519'}" in config["input"]
