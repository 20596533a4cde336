"""The `wrapix` subcommands and where they live (no click here: the launch fast path
reads this to tell a launch from any other command)."""

from __future__ import annotations

SUBCOMMANDS = {
    "run": "wrapix_core.cli.sandbox:run",
    "ls": "wrapix_core.cli.sandbox:ls",
    "attach": "wrapix_core.cli.sandbox:attach",
    "shell": "wrapix_core.cli.sandbox:shell",
    "stop": "wrapix_core.cli.sandbox:stop",
    "rm": "wrapix_core.cli.sandbox:rm",
    "logs": "wrapix_core.cli.sandbox:logs",
    "profiles": "wrapix_core.cli.profiles:profiles",
    "image": "wrapix_core.cli.image:image",
    "inbox": "wrapix_core.cli.inbox:inbox",
    "tasks": "wrapix_core.cli.tasks:tasks",
    "trust": "wrapix_core.cli.trust:trust",
    "audit": "wrapix_core.cli.audit:audit",
    "doctor": "wrapix_core.cli.doctor:doctor",
    "net": "wrapix_core.cli.net:net",
    "sessions": "wrapix_core.cli.sessions:sessions",
    "diff": "wrapix_core.cli.sessions:diff",
    "merge": "wrapix_core.cli.sessions:merge",
    "discard": "wrapix_core.cli.sessions:discard",
    "say": "wrapix_core.cli.sessions:say",
    "hosts": "wrapix_core.cli.hosts:hosts",
}
_NOT_LAUNCHES = {"--help", "-h", "--version", "--dry-run"}


def is_launch(args: list[str]) -> bool:
    """Whether ``wrapix ARGS`` starts a sandbox (``run``, or the default ``wrapix [DIR]``)."""
    if _NOT_LAUNCHES.intersection(args) or any(arg.startswith("--emit") for arg in args):
        return False
    return not args or args[0] == "run" or args[0] not in SUBCOMMANDS
