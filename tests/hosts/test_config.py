"""[hosts.NAME] settings, names and URLs (no Podman)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wrapix_core.errors import ConfigError, WrapixError
from wrapix_core.hosts.fleet import split_target
from wrapix_core.hosts.probe import too_old
from wrapix_core.hosts.target import UnknownHost, host, hosts, ssh_target
from wrapix_core.settings import load_settings

URL = "ssh://core@build.example:2200/run/user/1000/podman/podman.sock"


def _user_config(text: str) -> None:
    path = Path(os.environ["WRAPIX_CONFIG_DIR"]) / "config.toml"
    path.write_text(text)


def test_a_url_host_and_a_connection_host_are_read() -> None:
    _user_config(f'[hosts.big]\nurl = "{URL}"\nidentity = "~/.ssh/big"\ntimeout = 3\n'
                 '[hosts.lab]\nconnection = "lab"\n')
    found = hosts(load_settings())
    assert [h.name for h in found] == ["big", "lab"]
    big, lab = found
    assert big.podman_args() == ["--url", URL, "--identity", str(Path.home() / ".ssh/big")]
    assert big.timeout == 3
    assert lab.podman_args() == ["--connection", "lab"]


@pytest.mark.parametrize(("table", "message"), [
    ('[hosts.x]\ntimeout = 3\n', "exactly one of"),
    (f'[hosts.x]\nurl = "{URL}"\nconnection = "c"\n', "exactly one of"),
    ('[hosts.x]\nurl = "tcp://h:1/sock"\n', "is not ssh://"),
    ('[hosts.x]\nurl = "ssh://host/sock"\n', "is not ssh://"),
    (f'[hosts.local]\nurl = "{URL}"\n', "'local' is this machine"),
    (f'[hosts."a.b"]\nurl = "{URL}"\n', "host name 'a.b'"),
])
def test_bad_host_tables_name_the_key_and_say_why(table: str, message: str) -> None:
    _user_config(table)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hosts" in caught.value.message
    assert message in caught.value.message


def test_a_project_file_may_not_name_hosts(tmp_path: Path) -> None:
    (tmp_path / "wrapix.toml").write_text(f'[hosts.evil]\nurl = "{URL}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert "[hosts] is not allowed in a project's wrapix.toml" in caught.value.message
    assert "config.toml" in str(caught.value.hint)


def test_an_unknown_host_names_the_known_ones() -> None:
    _user_config(f'[hosts.big]\nurl = "{URL}"\n')
    with pytest.raises(UnknownHost) as caught:
        host(load_settings(), "small")
    assert "no host named 'small' (hosts: local, big)" in caught.value.message


def test_ssh_target_from_a_url() -> None:
    target = ssh_target(URL, Path("/k"))
    assert (target.user, target.hostname, target.port, target.socket) == (
        "core", "build.example", 2200, "/run/user/1000/podman/podman.sock")
    argv = target.ssh_argv(2.5)
    assert argv[-1] == "core@build.example"
    assert "BatchMode=yes" in argv and "ConnectTimeout=3" in argv
    assert argv[argv.index("-i") + 1] == "/k"
    assert ssh_target("ssh://u@h/s", None).port == 22
    with pytest.raises(WrapixError):
        ssh_target("ssh://u@h:99999/s", None)


@pytest.mark.parametrize(("target", "on", "expected"), [
    ("big/wrapix-x", None, ("big", "wrapix-x")),
    ("wrapix-x", "big", ("big", "wrapix-x")),
    ("wrapix-x", None, (None, "wrapix-x")),
    (None, "big", ("big", None)),
    ("big/", None, ("big", None)),
])
def test_host_slash_name_and_on(target: str | None, on: str | None,
                                expected: tuple[str | None, str | None]) -> None:
    assert split_target(target, on) == expected


def test_host_slash_name_and_a_different_on_is_refused() -> None:
    with pytest.raises(WrapixError, match="give the host once"):
        split_target("big/x", "small")


def test_podman_too_old() -> None:
    assert too_old("4.3.1") is None
    assert too_old("5.0.0-dev") is None
    assert too_old("3.4.4") == "Podman 3.4.4 is too old: wrapix needs 4.0 or newer there"


def test_remote_socket_names_split_back_at_the_first_dot() -> None:
    from wrapix_core.notify import socketdirs

    assert socketdirs.remote_name("big", "wrapix-a.b") == "big.wrapix-a.b"
    assert socketdirs.split_remote("big.wrapix-a.b") == ("big", "wrapix-a.b")
    assert socketdirs.split_remote("nodot") is None
    assert socketdirs.split_remote("big../x") is None
    with pytest.raises(ValueError):
        socketdirs.remote_name("a.b", "x")


def test_a_remote_sandboxs_socket_sits_beside_podmans_runtime_files() -> None:
    from wrapix_core.hosts.forward import remote_socket_dir

    assert remote_socket_dir(ssh_target(URL, None), "wrapix-x") == \
        "/run/user/1000/wrapix/sockets/wrapix-x"


def test_the_health_line_names_each_host_and_why() -> None:
    from wrapix_core.hosts.probe import HostStatus
    from wrapix_tui.host_watch import HostHealth, health_line

    line = health_line(None, [
        HostHealth(HostStatus("big", URL, True, version="4.9.3", sandboxes=3, running=2)),
        HostHealth(HostStatus("lab", URL, False, error="no answer within 3s"),
                   retry_at=105.0)], now=100.0)
    assert line == ("hosts: local ok · big ok (Podman 4.9.3, 3 sandboxes) · "
                    "lab unreachable: no answer within 3s; retrying in 5s")
