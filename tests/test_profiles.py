"""Profiles: built-ins, derivation, and user TOML with errors naming file and key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import script
from wrapix_core import paths
from wrapix_core.errors import ConfigError
from wrapix_core.profiles import BUILTIN, Mount, Package, Profile, derive_profile, load_catalog


def test_builtins() -> None:
    assert set(BUILTIN) == {"base", "rust", "python"}
    base = BUILTIN["base"].package_names()
    for tool in ("git", "ripgrep", "fd", "jq", "vim", "openssh", "curl", "less", "tree"):
        assert tool in base
    rust = BUILTIN["rust"]
    assert set(base) <= set(rust.package_names())
    assert {"rustup", "gcc", "openssl", "pkg-config", "postgresql.lib"} <= set(
        rust.package_names())
    assert {"RUSTUP_HOME", "CARGO_HOME", "OPENSSL_DIR"} <= set(rust.env)
    assert [(m.source, m.mode, m.optional) for m in rust.mounts] == [
        ("~/.cargo/registry", "ro", True), ("~/.cargo/git", "ro", True)]
    python = BUILTIN["python"]
    assert {"python3", "uv", "ruff"} <= set(python.package_names())
    assert python.env["UV_CACHE_DIR"] == "~/.cache/uv"
    assert [(m.source, m.optional) for m in python.mounts] == [("~/.cache/uv", True)]


def test_every_builtin_package_can_be_installed_by_some_backend() -> None:
    for profile in BUILTIN.values():
        for package in profile.packages:
            assert package.nix
            assert package.debian or package.pip, package.name


def test_derive_appends_overlays_and_composes() -> None:
    one = derive_profile(BUILTIN["rust"], name="db",
                         packages=[Package.simple("sqlx-cli")],
                         env={"DATABASE_URL": "postgres://localhost/db", "CARGO_HOME": "/c"},
                         mounts=[Mount(source="~/db", dest="/db")])
    assert one.package_names()[-1] == "sqlx-cli"
    assert one.env["DATABASE_URL"] == "postgres://localhost/db"
    assert one.env["CARGO_HOME"] == "/c"  # overlaid
    assert one.env["RUSTUP_HOME"] == "~/.rustup"  # kept
    assert one.mounts[-1].source == "~/db" and len(one.mounts) == 3
    two = derive_profile(one, packages=[Package.simple("psql", debian="postgresql-client")])
    assert two.package_names()[-2:] == ["sqlx-cli", "psql"]
    assert two.env == one.env
    # Deriving with a package already present replaces it instead of duplicating.
    three = derive_profile(two, packages=[Package(name="git", nix="gitFull", debian=("git",))])
    assert three.package_names().count("git") == 1
    assert next(p for p in three.packages if p.name == "git").nix == "gitFull"


def test_bad_env_name_and_mount_dest_rejected() -> None:
    with pytest.raises(ValueError, match="not an identifier"):
        derive_profile(BUILTIN["base"], env={"BAD-NAME": "x"})
    with pytest.raises(ValueError, match="absolute"):
        Mount(source="/a", dest="relative/path")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        Mount(source="/a", dest="/x/../etc")
    for kernel in ("/proc/x", "/sys/fs", "/dev/shm/y"):
        with pytest.raises(ValueError, match="belongs to the kernel"):
            Mount(source="/a", dest=kernel)
    assert Mount(source="/a", dest="/devices").dest == "/devices"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_profile_files_and_project_tables(tmp_path: Path) -> None:
    write(paths.config_dir() / "profiles" / "mine.toml",
          'base = "python"\npackages = ["httpie", {name = "pg", nix = "postgresql", '
          'debian = ["postgresql-client"]}]\nenv = {A = "1"}\n'
          '[[mounts]]\nsource = "~/.aws"\ndest = "~/.aws"\noptional = true\n')
    write(tmp_path / "wrapix.toml",
          '[profiles.proj]\nbase = "mine"\nenv = {B = "2"}\n')
    catalog = load_catalog(tmp_path)
    mine = catalog.get("mine")
    assert mine.package_names()[-2:] == ["httpie", "pg"]
    assert next(p for p in mine.packages if p.name == "pg").debian == ("postgresql-client",)
    assert mine.env["UV_CACHE_DIR"] == "~/.cache/uv" and mine.env["A"] == "1"
    proj = catalog.get("proj")
    assert proj.env["A"] == "1" and proj.env["B"] == "2"
    assert catalog.source("proj") == str(tmp_path / "wrapix.toml")
    assert {"base", "rust", "python", "mine", "proj"} <= set(catalog.names())


def test_project_can_extend_builtin_of_same_name(tmp_path: Path) -> None:
    write(tmp_path / "wrapix.toml", '[profiles.base]\nbase = "base"\npackages = ["htop"]\n')
    base = load_catalog(tmp_path).get("base")
    assert base.package_names()[0] == "git" and base.package_names()[-1] == "htop"


@pytest.mark.parametrize(("text", "key"), [
    ('[profiles.x]\nenv = {"BAD NAME" = "1"}\n', "profiles.x.env"),
    ('[profiles.x]\npackages = [3]\n', "profiles.x.packages"),
    ('[profiles.x]\n[[profiles.x.mounts]]\nsource = "/a"\ndest = "rel"\n',
     "profiles.x.mounts.0.dest"),
    ('[profiles.x]\n[[profiles.x.mounts]]\nsource = "/a"\ndest = "/b"\nmode = "rwx"\n',
     "profiles.x.mounts.0.mode"),
    ('[profiles.x]\npackagez = []\n', "profiles.x.packagez"),
])
def test_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    project = write(tmp_path / "wrapix.toml", text)
    with pytest.raises(ConfigError) as info:
        load_catalog(tmp_path)
    assert str(project) in str(info.value)
    assert f"'{key}'" in str(info.value)


def test_unknown_base_and_cycles(tmp_path: Path) -> None:
    write(tmp_path / "wrapix.toml", '[profiles.x]\nbase = "nope"\n')
    with pytest.raises(ConfigError, match=r"profiles\.x\.base.*unknown profile 'nope'"):
        load_catalog(tmp_path).get("x")
    write(tmp_path / "wrapix.toml", '[profiles.a]\nbase = "b"\n[profiles.b]\nbase = "a"\n')
    with pytest.raises(ConfigError, match="derives from itself"):
        load_catalog(tmp_path).get("a")
    with pytest.raises(ConfigError, match="unknown profile 'zzz'"):
        load_catalog(tmp_path).get("zzz")


def test_profiles_cli_json(tmp_path: Path) -> None:
    write(tmp_path / "wrapix.toml", '[profiles.proj]\nbase = "rust"\npackages = ["just"]\n')
    done = subprocess.run([script("wrapix"), "profiles", "--json", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=True)
    data = {item["name"]: item for item in json.loads(done.stdout)}
    assert data["proj"]["source"] == str(tmp_path / "wrapix.toml")
    assert "just" in [p["name"] for p in data["proj"]["packages"]]
    assert data["rust"]["env"]["RUSTUP_HOME"] == "~/.rustup"
    assert data["base"]["source"] == "built-in"
    human = subprocess.run([script("wrapix"), "profiles", "--dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "proj" in human and "just" in human


def test_profile_model_roundtrip() -> None:
    profile = BUILTIN["rust"]
    assert Profile.model_validate(profile.model_dump()) == profile
