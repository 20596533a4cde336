"""One record per agent: what to install from npm, how to start it with full
permissions, where its instructions go, which credentials it reads, how it notifies.

Pure data, imported by the profiles, the image recipe, the launch plan and Ralph; it
imports nothing of wrapix's. The facts were checked against each agent's own ``--help``
and documentation (the README's table of agents says where).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

AgentName = Literal["claude", "codex", "gemini", "opencode"]
NAMES: tuple[AgentName, ...] = ("claude", "codex", "gemini", "opencode")
DEFAULT: AgentName = "claude"

Install = Literal["native", "node"]
"""``native``: one binary taken out of the platform's npm package (no Node needed);
``node``: a JavaScript bundle run by Node (Node itself comes from the npm registry)."""


@dataclass(frozen=True)
class Agent:
    name: AgentName
    title: str
    """How notifications and listings name it."""
    command: str
    """The program on PATH inside the sandbox."""
    npm_package: str
    """The package people install it by (shown; the image takes the part it needs)."""
    install: Install
    platform_package: str
    """npm package (``{arch}``: x64 or arm64) holding what the image installs."""
    platform_version: str
    """Version of ``platform_package`` for agent version V (``{version}``)."""
    member: str
    """Path of the binary (native) or bundle directory (node) inside its tarball."""
    full_permission: tuple[str, ...]
    """Flags that start it without asking before each action (the container is the
    boundary)."""
    instructions: str
    """Where, under the sandbox home, the agent reads user-wide instructions: wrapix's
    system prompt goes there (Claude takes it as ``--append-system-prompt`` instead)."""
    credentials: tuple[str, ...]
    """Environment variables passed into its sandboxes by name (never in argv);
    ``sandbox.agent_credentials`` replaces the list per agent."""
    hosts: tuple[str, ...]
    """What it talks to, for ``allowlist`` egress."""
    notify: str
    """Its own "turn finished / waiting" mechanism wired to ``wrapix-notify``."""
    nix: str
    """Its nixpkgs attribute (the Nix backend)."""


_NPM_HOSTS = ("registry.npmjs.org",)

AGENTS: dict[AgentName, Agent] = {
    "claude": Agent(
        name="claude", title="Claude Code", command="claude",
        npm_package="@anthropic-ai/claude-code", install="native",
        platform_package="@anthropic-ai/claude-code-linux-{arch}",
        platform_version="{version}", member="package/claude",
        full_permission=("--dangerously-skip-permissions",),
        instructions="",
        credentials=("CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY"),
        hosts=("api.anthropic.com", "console.anthropic.com", "claude.ai",
               "statsig.anthropic.com", "statsig.com", "sentry.io", *_NPM_HOSTS),
        notify="Notification hook in its managed settings", nix="claude-code"),
    "codex": Agent(
        name="codex", title="Codex", command="codex",
        npm_package="@openai/codex", install="native",
        platform_package="@openai/codex", platform_version="{version}-linux-{arch}",
        member="package/vendor/{triple}/bin/codex",
        full_permission=("--dangerously-bypass-approvals-and-sandbox",),
        instructions=".codex/AGENTS.md",
        credentials=("OPENAI_API_KEY", "CODEX_API_KEY"),
        hosts=("api.openai.com", "auth.openai.com", "chatgpt.com", *_NPM_HOSTS),
        notify="`notify` program in ~/.codex/config.toml (agent-turn-complete)",
        nix="codex"),
    "gemini": Agent(
        name="gemini", title="Gemini CLI", command="gemini",
        npm_package="@google/gemini-cli", install="node",
        platform_package="@google/gemini-cli", platform_version="{version}",
        member="package/",
        full_permission=("--yolo", "--skip-trust"),
        instructions=".gemini/GEMINI.md",
        credentials=("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT",
                     "GOOGLE_GENAI_USE_VERTEXAI"),
        hosts=("generativelanguage.googleapis.com", "cloudcode-pa.googleapis.com",
               "oauth2.googleapis.com", "accounts.google.com", "play.googleapis.com",
               *_NPM_HOSTS),
        notify="AfterAgent and Notification hooks in ~/.gemini/settings.json",
        nix="gemini-cli"),
    "opencode": Agent(
        name="opencode", title="opencode", command="opencode",
        npm_package="opencode-ai", install="native",
        platform_package="opencode-linux-{arch}", platform_version="{version}",
        member="package/bin/opencode",
        full_permission=("--auto",),
        instructions=".config/opencode/AGENTS.md",
        credentials=("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY",
                     "OPENROUTER_API_KEY", "OPENCODE_API_KEY"),
        hosts=("opencode.ai", "models.dev", "api.anthropic.com", "api.openai.com",
               "generativelanguage.googleapis.com", "openrouter.ai", *_NPM_HOSTS),
        notify="plugin on session.idle in ~/.config/opencode/plugins/",
        nix="opencode"),
}

NODE_PACKAGE = "node-linux-{arch}"
"""Node for the ``node`` agents, from the npm registry like the agents themselves
(Debian bookworm's nodejs is 18; Gemini CLI needs 20 or newer)."""
NODE_MEMBER = "package/bin/node"


def get(name: str) -> Agent:
    """The record for ``name``; ValueError naming the choices for anything else."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}: use one of {', '.join(NAMES)}")
    return AGENTS[name]


def by_command(program: str) -> Agent | None:
    """The agent whose program is ``program`` (a basename), or None."""
    return next((agent for agent in AGENTS.values() if agent.command == program), None)


def credential_names(name: str, overrides: Mapping[Any, Sequence[str]] | None = None
                     ) -> tuple[str, ...]:
    """The variables ``name`` gets by name: the setting's list, else the record's."""
    if overrides and name in overrides:
        return tuple(overrides[name])
    return get(name).credentials


def all_credential_names() -> tuple[str, ...]:
    """Every agent's default credential variables (what a sandbox may be given)."""
    seen: dict[str, None] = {}
    for agent in AGENTS.values():
        seen.update(dict.fromkeys(agent.credentials))
    return tuple(seen)
