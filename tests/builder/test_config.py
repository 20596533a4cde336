"""Nix and ssh configuration snippets with this machine's paths."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from wrapix_core.builder import config
from wrapix_core.builder import keys as builder_keys
from wrapix_core.settings import BuilderSettings

SETTINGS = BuilderSettings(port=2345)


@pytest.fixture
def keys() -> builder_keys.Keys:
    made, _ = asyncio.run(builder_keys.ensure())
    return made


def test_systems_follow_the_cpu() -> None:
    assert config.linux_system("arm64") == "aarch64-linux"
    assert config.linux_system("aarch64") == "aarch64-linux"
    assert config.linux_system("x86_64") == "x86_64-linux"
    assert config.linux_system("AMD64") == "x86_64-linux"


def test_nix_conf_line_has_the_eight_machine_fields(keys: builder_keys.Keys) -> None:
    line = config.nix_conf_line(keys, "aarch64-linux", 4)
    name, _, value = line.strip().partition(" = ")
    assert name == "builders"
    fields = value.split(" ")
    assert fields[:7] == ["ssh-ng://builder@wrapix-builder", "aarch64-linux", str(keys.client),
                          "4", "1", "big-parallel,benchmark", "-"]
    assert base64.b64decode(fields[7]) == keys.host_pub.read_bytes()


def test_ssh_config_reaches_the_builder_port_with_its_key(keys: builder_keys.Keys,
                                                          tmp_path: Path) -> None:
    text = config.ssh_config(SETTINGS, keys)
    path = tmp_path / "ssh_config"
    path.write_text(text)
    resolved = subprocess.run(["ssh", "-G", "-F", str(path), "wrapix-builder"],
                              capture_output=True, text=True, check=True, timeout=30).stdout
    for expected in ("hostname 127.0.0.1", "port 2345", "user builder",
                     "hostkeyalias wrapix-builder", "identitiesonly yes",
                     f"identityfile {keys.client}"):
        assert expected in resolved


def test_nix_darwin_snippet_names_key_host_key_and_system(keys: builder_keys.Keys) -> None:
    text = config.nix_darwin(SETTINGS, keys, "aarch64-linux", 4)
    assert 'hostName = "wrapix-builder";' in text
    assert 'sshUser = "builder";' in text
    assert f'sshKey = "{keys.client}";' in text
    assert 'protocol = "ssh-ng";' in text
    assert 'systems = [ "aarch64-linux" ];' in text
    assert f'publicHostKey = "{keys.host_public_key_base64()}";' in text
    assert 'environment.etc."ssh/ssh_config.d/100-wrapix-builder.conf".text' in text
    assert "    Port 2345" in text


def test_key_paths_with_spaces_fall_back_to_the_ssh_config(tmp_path: Path) -> None:
    spaced = builder_keys.Keys(tmp_path / "Application Support" / "wrapix" / "builder-keys")
    asyncio.run(builder_keys.ensure(spaced))
    darwin = config.nix_darwin(SETTINGS, spaced, "aarch64-linux", 4)
    assert "sshKey =" not in darwin
    assert f'IdentityFile "{spaced.client}"' in darwin
    fields = config.nix_conf_line(spaced, "aarch64-linux", 4).split(" = ")[1].split(" ")
    assert len(fields) == 8 and fields[2] == "-"


@pytest.mark.skipif(shutil.which("nix-instantiate") is None,
                    reason="nix-instantiate is not installed (CI installs nix-bin)")
def test_nix_darwin_snippet_is_valid_nix_even_with_odd_paths(tmp_path: Path) -> None:
    odd = builder_keys.Keys(tmp_path / "it's${HOME}\"q\"''x")
    asyncio.run(builder_keys.ensure(odd))
    source = config.nix_darwin(SETTINGS, odd, "x86_64-linux", 2)
    done = subprocess.run(["nix-instantiate", "--store", "dummy://", "--eval", "--strict",
                           "--json", "-E",
                           f"let m = ({source}); in [ (builtins.head m.nix.buildMachines)"
                           f".sshKey m.environment.etc.\"{config.SSH_CONFIG_ETC}\".text ]"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    key, ssh_text = json.loads(done.stdout)
    assert key == str(odd.client)  # quotes, '' and ${ survive; no spaces in this path
    (tmp_path / "ssh_config").write_text(ssh_text)
    resolved = subprocess.run(["ssh", "-G", "-F", str(tmp_path / "ssh_config"),
                               "wrapix-builder"], capture_output=True, text=True, check=True,
                              timeout=30).stdout
    assert f"identityfile {odd.client}\n" in resolved


def test_render_says_where_each_snippet_goes(keys: builder_keys.Keys) -> None:
    text = config.render(SETTINGS, keys, machine="arm64", max_jobs=3)
    assert "Host wrapix-builder" in text
    assert "nix.buildMachines" in text
    assert "builders = ssh-ng://builder@wrapix-builder aarch64-linux" in text
    assert "builders-use-substitutes = true" in text
