"""What an image is made of: a profile plus the image settings, ready to render."""

from __future__ import annotations

from dataclasses import dataclass, field

from wrapix_core.agents.registry import AGENTS, AgentName
from wrapix_core.profiles import Profile

ALWAYS_DEBIAN = ("bash", "ca-certificates", "python3", "python3-venv")
"""Debian packages every image needs: wrapix itself runs on python3."""
WRAPIX_VENV = "/opt/wrapix"
TOOLS_VENV = "/opt/wrapix-tools"
COMMANDS = ("wrapix", "wrapix-notify", "ralph", "wrapix-netfwd")
"""wrapix's own commands made available on PATH inside the sandbox."""


@dataclass(frozen=True)
class Recipe:
    profile: Profile
    base: str
    wheel: str
    """File name of wrapix's wheel in the build context."""
    requirements: tuple[str, ...]
    agents: tuple[tuple[AgentName, str], ...] = ()
    """The agents to install, each with its version (``latest``: resolved at build)."""
    node_version: str = "22.23.5"
    """Node, when an agent needs it."""
    npm_registry: str = "https://registry.npmjs.org"
    extra_ca: bool = False
    """The context holds ``extra-ca.crt`` to trust (see ImageSettings.ca_bundle)."""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def agent(self) -> bool:
        """Whether the image holds any agent."""
        return bool(self.agents)

    def agent_names(self) -> list[AgentName]:
        return [name for name, _version in self.agents]

    def needs_node(self) -> bool:
        return any(AGENTS[name].install == "node" for name in self.agent_names())

    def debian_packages(self) -> list[str]:
        names = {*ALWAYS_DEBIAN}
        for package in self.profile.packages:
            names.update(package.debian)
        return sorted(names)

    def pip_tools(self) -> list[str]:
        return sorted({package.pip for package in self.profile.packages if package.pip})

    def tool_commands(self) -> list[str]:
        return sorted({package.name for package in self.profile.packages if package.pip})
