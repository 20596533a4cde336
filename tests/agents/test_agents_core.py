"""The agent registry in profiles, settings, the launch plan and the notify hook (pure)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.sandbox.factories import facts, spec
from tests.support.cli import script
from wrapix_core.agents import files
from wrapix_core.agents.notify import hook_call
from wrapix_core.errors import ConfigError
from wrapix_core.profiles import BASE, ProfileCatalog, _parse, derive_profile
from wrapix_core.sandbox.plan import plan_podman
from wrapix_core.settings import SandboxSettings


def test_profile_agent_defaults_extras_and_a_choice() -> None:
    assert BASE.default_agent() == "claude" and BASE.installed_agents() == ("claude",)
    assert BASE.installed_agents("gemini") == ("gemini",)  # sandbox.agent as the default
    both = derive_profile(BASE, name="both", agent="codex", agents=["opencode", "codex"])
    assert both.installed_agents() == ("codex", "opencode")
    assert both.with_agent("opencode").installed_agents() == ("opencode", "codex")
    added = both.with_agent("gemini")  # not in its image: added next to the profile's
    assert added.default_agent() == "gemini"
    assert set(added.installed_agents()) == {"gemini", "codex", "opencode"}
    assert both.with_agent(None) is both
    none = derive_profile(BASE, name="none", agent=False)
    assert none.installed_agents() == () and none.default_agent() is None


def test_profile_files_name_agents_and_errors_name_the_key() -> None:
    spec_ = _parse({"agent": "gemini", "agents": ["codex"]}, "wrapix.toml", "web")
    catalog = ProfileCatalog({"web": ("wrapix.toml", spec_)})
    assert catalog.get("web").installed_agents() == ("gemini", "codex")
    with pytest.raises(ConfigError, match=r"wrapix.toml: key 'profiles.web.agent"):
        _parse({"agent": "cursor"}, "wrapix.toml", "web")


def test_the_plan_runs_the_agent_with_its_own_credentials_by_name() -> None:
    settings = SandboxSettings()
    codex = spec(agent="codex", profile=derive_profile(BASE, name="c", agent="codex"))
    result = plan_podman(codex, facts(codex, settings, secrets={
        "OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"}), settings)
    assert result.env == {"OPENAI_API_KEY": "sk-openai"}  # not Claude's
    assert "sk-openai" not in " ".join(result.argv)
    assert result.container_env["WRAPIX_AGENT"] == "codex"
    assert "wrapix.agent=codex" in result.argv
    custom = SandboxSettings(agent_credentials={"codex": ["MY_GATEWAY_KEY"]})
    again = plan_podman(codex, facts(codex, custom, secrets={"MY_GATEWAY_KEY": "k",
                                                             "OPENAI_API_KEY": "x"}), custom)
    assert again.env == {"MY_GATEWAY_KEY": "k"}


def test_allowlist_egress_gets_the_agents_hosts() -> None:
    settings = SandboxSettings(network="allowlist")
    gemini = spec(agent="gemini", profile=derive_profile(BASE, name="g", agent="gemini"))
    hosts = plan_podman(gemini, facts(gemini, settings, egress_dir=facts(gemini).cache_dir),
                        settings).allowlist
    assert "generativelanguage.googleapis.com" in hosts
    assert "api.anthropic.com" not in hosts  # Claude is not in that image


def test_the_config_files_wire_each_agents_hook_to_wrapix_notify() -> None:
    codex = tomllib.loads(files.codex_config())
    assert codex["notify"] == ["wrapix-notify", "--agent", "codex"]
    assert codex["projects"]["/workspace"]["trust_level"] == "trusted"
    gemini = json.loads(files.gemini_settings())
    for event in ("AfterAgent", "Notification"):
        assert gemini["hooks"][event][0]["hooks"][0]["command"] == "wrapix-notify --agent gemini"
    assert 'export const COMMAND = ["wrapix-notify", "--agent", "opencode"];' in \
        files.opencode_plugin()
    assert json.loads(files.opencode_config())["permission"] == "allow"


@pytest.mark.parametrize(("agent", "args", "stdin", "title", "message", "reply"), [
    ("codex", ['{"type": "agent-turn-complete", "last-assistant-message": "[b]x"}'], "",
     "Codex", "Turn finished", ""),
    ("gemini", [], '{"hook_event_name": "Notification", "message": "ok?"}', "Gemini CLI",
     "Waiting for input...", "{}"),
    ("gemini", [], '{"hook_event_name": "AfterAgent"}', "Gemini CLI", "Turn finished", "{}"),
    ("opencode", ["session.idle"], "", "opencode", "Turn finished", ""),
    ("codex", ["not json {"], "", "Codex", "Waiting for input...", ""),
])
def test_hook_payloads_pick_the_message_never_the_agents_text(
        agent: str, args: list[str], stdin: str, title: str, message: str, reply: str) -> None:
    call = hook_call(agent, args, io.StringIO(stdin))
    assert (call.title, call.message, call.reply) == (title, message, reply)


def test_an_unknown_agent_is_a_usage_error() -> None:
    from wrapix_core.notify.client import main

    assert main(["--agent", "cursor"], env={}) == 2


def test_wrapix_profiles_lists_the_agents_each_profile_runs(tmp_path: Path) -> None:
    (tmp_path / "wrapix.toml").write_text(
        '[sandbox]\nagent = "opencode"\n'
        '[profiles.web]\nagent = "gemini"\nagents = ["codex"]\n'
        '[profiles.bare]\nbase = "none"\nagent = false\n')
    env = {**os.environ, "WRAPIX_TRUST_PROJECTS": "all"}
    done = subprocess.run([script("wrapix"), "profiles", "--json", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=True, env=env)
    data = {item["name"]: item for item in json.loads(done.stdout)}
    assert data["web"]["runs_agents"] == ["gemini", "codex"]
    assert data["web"]["default_agent"] == "gemini"
    assert data["base"]["runs_agents"] == ["opencode"]  # sandbox.agent: the default's default
    assert data["bare"]["runs_agents"] == [] and data["bare"]["default_agent"] is None
    human = subprocess.run([script("wrapix"), "profiles", "--dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=60, check=True,
                           env=env).stdout
    assert "agents: gemini (default), codex" in human and "agents: none" in human
