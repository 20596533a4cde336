"""The Containerfile and the Nix expression, line by line (pure)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from wrapix_core.image import containerfile, nixexpr
from wrapix_core.image.recipe import Recipe
from wrapix_core.profiles import BUILTIN, Package, Profile

REQS = ("click>=8.1", "PyYAML>=6.0", "pydantic-settings>=2.3")


def recipe(profile: Profile = BUILTIN["python"], **changes: object) -> Recipe:
    values: dict[str, object] = {"profile": profile, "base": "localhost/debian:12",
                                 "wheel": "wrapix-0.1.0-py3-none-any.whl", "requirements": REQS,
                                 "agents": (("claude", "latest"),), "labels": {"wrapix.image": "1"}}
    values.update(changes)
    return Recipe(**values)  # type: ignore[arg-type]


def test_layers_run_from_stable_to_volatile() -> None:
    text = containerfile.render(recipe(extra_ca=True))
    order = ["FROM localhost/debian:12", "apt-get install", "update-ca-certificates",
             "/opt/wrapix-tools/bin/pip install", "install-agent.py", "/opt/wrapix/bin/pip install "
             "--no-cache-dir 'click", "COPY wrapix-0.1.0-py3-none-any.whl",
             "COPY claude-config.json", "COPY entrypoint.sh", "ENTRYPOINT", "LABEL"]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_debian_packages_come_from_the_profile_sorted_with_the_essentials() -> None:
    text = containerfile.render(recipe(BUILTIN["rust"]))
    line = next(line for line in text.splitlines() if "apt-get install" in line)
    names = line.split("--no-install-recommends", 1)[1].split("&&")[0].rstrip(" \\").split()
    assert names == sorted(names)
    for name in ("fd-find", "openssh-client", "nix-bin", "rustc", "cargo", "libssl-dev",
                 "libpq-dev", "python3", "python3-venv", "ca-certificates"):
        assert name in names


def test_pip_tools_layer_only_when_needed() -> None:
    assert "/opt/wrapix-tools" in containerfile.render(recipe(BUILTIN["python"]))
    assert "/opt/wrapix-tools" not in containerfile.render(recipe(BUILTIN["base"]))
    text = containerfile.render(recipe(BUILTIN["python"]))
    assert "pip install --no-cache-dir ruff uv" in text
    assert "ln -sf /opt/wrapix-tools/bin/ruff /opt/wrapix-tools/bin/uv /usr/local/bin/" in text


def test_agent_layer_can_be_turned_off_and_is_pinned_when_asked() -> None:
    on = containerfile.render(recipe(agents=(("claude", "2.1.332"),)))
    assert ("install-agent.py claude native @anthropic-ai/claude-code 2.1.332 "
            "'@anthropic-ai/claude-code-linux-{arch}' '{version}' package/claude "
            "https://registry.npmjs.org") in on
    assert "HOME=/tmp/wrapix-check claude --version" in on
    assert "install-agent" not in containerfile.render(recipe(agents=()))


def test_only_the_chosen_agents_are_installed_node_only_for_gemini() -> None:
    codex = containerfile.render(recipe(agents=(("codex", "latest"),)))
    assert "install-agent.py codex native @openai/codex latest @openai/codex " \
           "'{version}-linux-{arch}' 'package/vendor/{triple}/bin/codex'" in codex
    for absent in ("install-agent.py claude", "install-agent.py gemini", "install-agent.py node",
                   "install-agent.py opencode"):
        assert absent not in codex
    both = containerfile.render(recipe(agents=(("gemini", "0.61.0"), ("opencode", "latest"))))
    node = both.index("install-agent.py node native 'node-linux-{arch}' 22.23.5")
    assert node < both.index("install-agent.py gemini node @google/gemini-cli 0.61.0")
    assert "install-agent.py opencode native opencode-ai latest 'opencode-linux-{arch}'" in both
    assert "install-agent.py claude" not in both
    assert "HOME=/tmp/wrapix-check gemini --version" in both
    nix = nixexpr.render(recipe(agents=(("codex", "latest"), ("gemini", "latest"))), "n", "t")
    assert "\n    codex\n    gemini-cli" in nix and "\n    claude-code" not in nix


def test_wrapix_itself_and_its_commands() -> None:
    text = containerfile.render(recipe())
    assert "/opt/wrapix/bin/pip install --no-cache-dir 'click>=8.1' 'PyYAML>=6.0'" in text
    assert "--no-deps --no-compile /usr/local/lib/wrapix/wrapix-0.1.0-py3-none-any.whl" in text
    assert "compileall -q --invalidation-mode unchecked-hash" in text
    assert ("ln -sf /opt/wrapix/bin/wrapix /opt/wrapix/bin/wrapix-notify /opt/wrapix/bin/ralph "
            "/opt/wrapix/bin/wrapix-netfwd "
            "/usr/local/bin/") in text


def test_config_files_and_entrypoint() -> None:
    text = containerfile.render(recipe())
    assert ("COPY claude-config.json claude-settings.json system-prompt.md codex-config.toml "
            "gemini-settings.json opencode-notify.js opencode.json /etc/wrapix/") in text
    assert "COPY claude-settings.json /etc/claude-code/managed-settings.json" in text
    assert "COPY nix.conf /etc/nix/nix.conf" in text
    assert 'ENTRYPOINT ["/entrypoint.sh"]' in text
    assert text.rstrip().endswith("LABEL wrapix.image=1")


def test_extra_ca_only_when_present() -> None:
    assert "update-ca-certificates" not in containerfile.render(recipe())
    assert "PIP_CERT=/etc/ssl/certs/ca-certificates.crt" in containerfile.render(
        recipe(extra_ca=True))


def test_hostile_package_names_are_quoted() -> None:
    evil = Profile(name="x", packages=(Package(name="x", nix="x", debian=("a;rm -rf /",)),))
    lines = containerfile.render(recipe(evil)).splitlines()
    line = next(text for text in lines if "apt-get install" in text)
    assert "'a;rm -rf /'" in line


def test_nix_expression_lists_profile_attrs_and_wrapix() -> None:
    text = nixexpr.render(recipe(BUILTIN["rust"]), "localhost/wrapix-rust", "abc")
    assert "dockerTools.streamLayeredImage" in text
    assert "postgresql.lib" in text and "rustup" in text and "pkg-config" in text
    assert "src = ./wrapix-0.1.0-py3-none-any.whl;" in text
    assert "[ click pyyaml pydantic-settings ]" in text
    assert "\n    claude-code\n" in text
    assert 'tag = "abc";' in text
    assert "\n    claude-code\n" not in nixexpr.render(recipe(agents=()), "n", "t")


def test_nix_rejects_non_attribute_names() -> None:
    evil = Profile(name="x", packages=(Package(name="x", nix="x; builtins.exec", debian=()),))
    with pytest.raises(ValueError, match="not a Nix attribute"):
        nixexpr.render(recipe(evil), "n", "t")


def test_nix_python_attrs() -> None:
    assert nixexpr.python_attr("PyYAML>=6.0") == "pyyaml"
    assert nixexpr.python_attr("markdown-it-py>=3") == "markdown-it-py"
    assert nixexpr.python_attr("pydantic_settings") == "pydantic-settings"


def test_nix_expression_parses(tmp_path: Path) -> None:
    if shutil.which("nix-instantiate") is None:
        if os.environ.get("WRAPIX_CI") == "1":
            pytest.fail("nix-instantiate is mandatory in CI (apt install nix-bin)")
        pytest.skip("nix-instantiate is not installed")
    for profile in BUILTIN.values():
        for extra_ca in (False, True):
            path = tmp_path / f"{profile.name}-{extra_ca}.nix"
            path.write_text(nixexpr.render(recipe(profile, extra_ca=extra_ca), "n", "t"))
            # --store dummy://: parsing needs no store, and the daemon may not be ours.
            done = subprocess.run(["nix-instantiate", "--store", "dummy://", "--parse",
                                   str(path)], capture_output=True,
                                  text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
