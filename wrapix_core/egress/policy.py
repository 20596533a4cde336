"""Egress policy: the modes, the allowlist patterns and how a destination is judged.

Pure data and functions, shared by the planner (what a sandbox gets), the proxy (what
it lets through) and the CLI/TUI (what is shown). See :mod:`wrapix_core.egress` for the
design and its threat model.

A pattern is a host name (``github.com``: that name only), a wildcard
(``*.npmjs.org``: any name below it, not the name itself), or an IP literal
(``203.0.113.7``, ``[2001:db8::1]``): IP destinations are refused unless listed exactly,
since a name is what the list is about. Ports are not restricted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Literal

Mode = Literal["open", "allowlist", "none"]
MODES: tuple[Mode, ...] = ("open", "allowlist", "none")
DEFAULT_MODE: Mode = "open"

AGENT_HOSTS = (
    "api.anthropic.com", "console.anthropic.com", "claude.ai", "statsig.anthropic.com",
    "statsig.com", "sentry.io", "registry.npmjs.org",
)
"""What Claude Code talks to (API, login, telemetry/error reports, its own updates);
the same hosts the Claude Code devcontainer firewall lets through."""

BASE_HOSTS = (
    "github.com", "api.github.com", "codeload.github.com", "objects.githubusercontent.com",
    "raw.githubusercontent.com", "deb.debian.org", "security.debian.org", "cache.nixos.org",
)
PYTHON_HOSTS = ("pypi.org", "files.pythonhosted.org")
RUST_HOSTS = ("crates.io", "index.crates.io", "static.crates.io", "static.rust-lang.org")

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


class PatternError(ValueError):
    """An allowlist entry that is neither a host name, a ``*.`` wildcard nor an IP."""


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address (IPv6 with or without brackets), else None."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def normalize_host(host: str) -> str | None:
    """A destination as the proxy compares it: lower case, no trailing dot, IPs in
    canonical form; None when it is no host name at all (the request is refused)."""
    address = ip_literal(host)
    if address is not None:
        return str(address)
    name = host.lower().removesuffix(".")
    if len(name) > 253 or not _NAME.fullmatch(name):
        return None
    return name


def normalize_pattern(pattern: str) -> str:
    """One allowlist entry in canonical form; raises :class:`PatternError`."""
    text = pattern.strip()
    wildcard = text.startswith("*.")
    host = normalize_host(text[2:] if wildcard else text)
    if host is None or (wildcard and ip_literal(host) is not None):
        raise PatternError(f"'{pattern}' is not a host name, '*.' followed by a domain, "
                           "or an IP address")
    return f"*.{host}" if wildcard else host


def merge(*lists: Iterable[str]) -> tuple[str, ...]:
    """Patterns from several sources, normalized, first occurrence kept."""
    merged: dict[str, None] = {}
    for patterns in lists:
        for pattern in patterns:
            merged[normalize_pattern(pattern)] = None
    return tuple(merged)


def allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether the (normalized) destination ``host`` matches one of ``patterns``."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and ip_literal(host) is None:
                return True
        elif host == pattern:
            return True
    return False


def effective(profile_hosts: Iterable[str], agent: bool | Iterable[str], *more: Iterable[str]
              ) -> tuple[str, ...]:
    """A sandbox's list: the agent's hosts (``True``: Claude Code's, or the hosts of the
    agent it runs; ``False``: no agent), the profile's own (built-in profiles list their
    package registries), then ``more`` (user and project settings)."""
    hosts: Iterable[str] = AGENT_HOSTS if agent is True else () if agent is False else agent
    return merge(hosts, profile_hosts, *more)
