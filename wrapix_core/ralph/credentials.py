"""Can the agent log in? Checked before a session, so that a missing login is one clear
error up front instead of three failed attempts and a parked issue.

Only Claude Code (an agent command whose program is named ``claude``) is checked; other
agents are trusted to know their own credentials. Claude finds them, in order:

- in its environment: ``CLAUDE_CODE_OAUTH_TOKEN`` (``claude setup-token``),
  ``ANTHROPIC_API_KEY``, ``ANTHROPIC_AUTH_TOKEN``, or a cloud provider switch
  (``CLAUDE_CODE_USE_BEDROCK``, ``CLAUDE_CODE_USE_VERTEX``);
- in its config directory: ``.credentials.json`` (written by ``/login``) or an
  ``apiKeyHelper`` in ``settings.json``.

In a sandbox the environment is what the sandbox passes (:data:`SECRET_NAMES` from
Ralph's own environment, and the profile's and ``sandbox.env`` variables) and the config
directory is the workspace's ``.claude`` (mounted as ``~/.claude``). On the host it is
Ralph's environment and ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``; on macOS the login
lives in the keychain, which cannot be looked at, so the host check is skipped there.
Files are looked at, never followed out of the workspace: a link counts as missing.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from wrapix_core.errors import WrapixError
from wrapix_core.ralph.errors import RalphError
from wrapix_core.sandbox.plan import SECRET_NAMES
from wrapix_core.settings import RalphSettings, Settings
from wrapix_core.workspace_fs import regular_fd

ENV_NAMES = (*SECRET_NAMES, "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK",
             "CLAUDE_CODE_USE_VERTEX")
"""Variables that give Claude credentials (or send it to a cloud provider)."""
CHECKED_AGENTS = ("claude",)


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _has_login(config_dir: Path) -> bool:
    if _regular_file(config_dir / ".credentials.json"):
        return True
    settings = config_dir / "settings.json"
    if not _regular_file(settings):
        return False
    try:
        # not through a link put there since the check (a sandbox writes .claude)
        with os.fdopen(regular_fd(settings, nofollow=True), "rb") as handle:
            data = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("apiKeyHelper"))


def _sandbox_env(settings: Settings, ralph: RalphSettings, workspace: Path,
                 environ: Mapping[str, str]) -> dict[str, str]:
    """The credential variables a Ralph sandbox gets."""
    from wrapix_core.profiles import load_catalog

    env = {name: environ[name] for name in SECRET_NAMES if environ.get(name)}
    env.update(settings.sandbox.env)
    try:
        profile = load_catalog(workspace).get(ralph.profile or settings.sandbox.profile)
    except WrapixError:  # the launch itself will say what is wrong with the profile
        return env
    env.update(profile.env)
    return env


def problem(agent: list[str], ralph: RalphSettings, settings: Settings, workspace: Path,
            environ: Mapping[str, str] | None = None) -> RalphError | None:
    """The error to show when the agent cannot log in where it runs, or None."""
    if not agent or Path(agent[0]).name not in CHECKED_AGENTS:
        return None
    environ = os.environ if environ is None else environ
    if ralph.host:
        if sys.platform == "darwin":
            return None
        env: Mapping[str, str] = environ
        config = Path(environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
        where = "on this machine (--host)"
        login = "run `claude` here and log in with /login"
    else:
        env = _sandbox_env(settings, ralph, workspace, environ)
        config = workspace / ".claude"
        where = "in its sandbox"
        login = (f"log in once inside a sandbox of this workspace (`wrapix {workspace}`, "
                 "then /login in Claude; it is kept in the workspace's .claude)")
    if any(env.get(name) for name in ENV_NAMES) or _has_login(config):
        return None
    return RalphError(
        f"the agent ({Path(agent[0]).name}) has no credentials {where}: none of "
        f"{', '.join(SECRET_NAMES)} is set and {config}/.credentials.json does not exist",
        f"set CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`) or ANTHROPIC_API_KEY in "
        f"the environment you run Ralph from, or {login}", exit_code=2)
