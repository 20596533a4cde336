"""The builder's container argv for Podman and Apple ``container`` (flag by flag).

Apple's runtime needs macOS 26 on Apple silicon, so its commands are tested here at
the argv level only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wrapix_core.builder import apple, podman
from wrapix_core.builder.commands import Commands
from wrapix_core.builder.keys import Keys
from wrapix_core.errors import WrapixError
from wrapix_core.settings import BuilderSettings

SETTINGS = BuilderSettings(port=2345, name="wrapix-builder")
KEYS = Keys(Path("/data/wrapix/builder-keys"))
STORE = Path("/data/wrapix/builder-nix")


def pairs(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, item in enumerate(argv) if item == flag]


def test_podman_run_publishes_on_loopback_only_as_user_namespaced_root() -> None:
    argv = podman.run_argv("podman", SETTINGS, "localhost/wrapix-builder:abc", KEYS, STORE)
    assert argv[:3] == ["podman", "run", "--detach"]
    assert pairs(argv, "--name") == ["wrapix-builder"]
    assert pairs(argv, "--publish") == ["127.0.0.1:2345:22"]
    assert pairs(argv, "--label") == ["wrapix.role=builder"]
    assert pairs(argv, "--cap-drop") == ["all"]
    assert pairs(argv, "--cap-add") == ["CHOWN,FOWNER,SETUID,SETGID,SYS_CHROOT,NET_BIND_SERVICE"]
    assert pairs(argv, "--security-opt") == ["no-new-privileges"]
    assert not any(item.startswith("--userns") or item == "--privileged" for item in argv)
    assert not any(item in ("--network=host", "--pid=host") for item in argv)
    assert argv[-1] == "localhost/wrapix-builder:abc"


def test_podman_run_mounts_store_at_nix_and_keys_read_only_without_client_private_key() -> None:
    argv = podman.run_argv("podman", SETTINGS, "img", KEYS, STORE)
    volumes = pairs(argv, "--volume")
    assert "/data/wrapix/builder-nix:/nix:rw" in volumes
    assert sorted(v for v in volumes if "builder-keys" in v) == [
        "/data/wrapix/builder-keys/client_ed25519.pub:/run/wrapix-builder/client_ed25519.pub:ro",
        "/data/wrapix/builder-keys/host_ed25519.pub:/run/wrapix-builder/host_ed25519.pub:ro",
        "/data/wrapix/builder-keys/host_ed25519:/run/wrapix-builder/host_ed25519:ro",
    ]
    assert not any(v.startswith("/data/wrapix/builder-keys/client_ed25519:") for v in volumes)
    assert pairs(argv, "--env") == ["WRAPIX_BUILDER_KEYS=/run/wrapix-builder"]


def test_podman_store_helper_is_one_shot_and_offline() -> None:
    argv = podman.helper_argv("podman", SETTINGS, "img", STORE, "init-store")
    assert argv[:3] == ["podman", "run", "--rm"]
    assert pairs(argv, "--name") == ["wrapix-builder-store"]
    assert pairs(argv, "--network") == ["none"]
    assert pairs(argv, "--volume") == ["/data/wrapix/builder-nix:/mnt/store:rw"]
    assert pairs(argv, "--cap-add") == ["CHOWN,DAC_OVERRIDE,FOWNER,FSETID"]
    assert argv[-3:] == ["img", "init-store", "/mnt/store"]
    wipe = podman.helper_argv("podman", SETTINGS, "img", STORE, "wipe-store")
    assert wipe[-2:] == ["wipe-store", "/mnt/store"]
    assert podman.remove_argv("podman", "x") == ["podman", "rm", "--force", "--ignore", "x"]


def test_apple_run_uses_a_directory_share_for_keys_and_sizes_the_vm() -> None:
    share = KEYS.share_directory
    argv = apple.run_argv("container", SETTINGS, "wrapix-builder:abc", share, STORE)
    assert argv[:3] == ["container", "run", "--detach"]
    assert pairs(argv, "--name") == ["wrapix-builder"]
    assert pairs(argv, "--publish") == ["127.0.0.1:2345:22"]
    assert pairs(argv, "--label") == ["wrapix.role=builder"]
    assert pairs(argv, "--mount") == [
        "type=virtiofs,source=/data/wrapix/builder-keys/container,"
        "target=/run/wrapix-builder,readonly"]
    assert pairs(argv, "--volume") == ["/data/wrapix/builder-nix:/nix"]
    assert int(pairs(argv, "--cpus")[0]) >= 2
    assert pairs(argv, "--memory") == ["4096M"]
    assert argv[-1] == "wrapix-builder:abc"


def test_apple_helper_delete_and_inspect_argv() -> None:
    assert apple.helper_argv("container", SETTINGS, "img", STORE, "init-store") == [
        "container", "run", "--rm", "--name", "wrapix-builder-store",
        "--label", "wrapix.role=builder-helper",
        "--volume", "/data/wrapix/builder-nix:/mnt/store", "img", "init-store", "/mnt/store"]
    assert apple.remove_argv("container", "wrapix-builder") == [
        "container", "delete", "--force", "wrapix-builder"]
    assert apple.image_inspect_argv("container", "img") == ["container", "image", "inspect",
                                                            "img"]
    assert apple.network_inspect_argv("container") == ["container", "network", "inspect",
                                                       "default"]


def test_apple_mount_paths_that_container_cannot_carry_are_refused() -> None:
    with pytest.raises(WrapixError, match="cannot carry"):
        apple.run_argv("container", SETTINGS, "img", Path("/a,b/keys"), STORE)


def test_commands_choose_the_runtime_argv() -> None:
    mac = Commands("apple", "/usr/local/bin/container", SETTINGS)
    linux = Commands("podman", "podman", SETTINGS)
    assert mac.run_argv("img", KEYS, STORE)[0] == "/usr/local/bin/container"
    assert "--mount" in mac.run_argv("img", KEYS, STORE)
    assert "--cap-drop" in linux.run_argv("img", KEYS, STORE)
    assert mac.remove_argv("n")[1] == "delete"
    assert linux.helper_argv("img", STORE, "wipe-store")[-2] == "wipe-store"


def test_apple_image_digest_from_inspect_json() -> None:
    digest = "sha256:" + "ab" * 32
    text = json.dumps([{"name": "wrapix-builder:abc",
                        "index": {"digest": digest, "mediaType": "x", "size": 1}}])
    assert apple.image_digest(text) == digest
    assert apple.image_digest("not json") is None
    assert apple.image_digest("[]") is None


def test_apple_network_subnet_from_inspect_json() -> None:
    # Older releases escape slashes; newer ones nest the subnet in a status object.
    old = '[{"id":"default","status":{"address":"192.168.64.0\\/24","gateway":"192.168.64.1"}}]'
    new = json.dumps([{"id": "default", "status": {"ipv4Subnet": "192.168.65.0/24",
                                                   "ipv4Gateway": "192.168.65.1"}}])
    assert apple.network_subnet(old) == "192.168.64.0/24"
    assert apple.network_subnet(new) == "192.168.65.0/24"
    with pytest.raises(WrapixError, match="subnet"):
        apple.network_subnet(json.dumps([{"id": "default"}]))
    with pytest.raises(WrapixError, match="did not return JSON"):
        apple.network_subnet("container system is not running")
