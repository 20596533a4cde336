"""`ralph`: the spec-driven workflow. Subcommands load from their own modules on use.

Exit codes beyond the common ones: 100 nothing left to do, 101 stuck (open issues,
none ready).
"""

from __future__ import annotations

import click

from wrapix_core import __version__
from wrapix_core.cli.lazy import LazyGroup

_WORKFLOW = "wrapix_core.cli.ralph_workflow"
SUBCOMMANDS = {
    "board": "wrapix_core.cli.ralph_board:board",
    "spec": "wrapix_core.cli.ralph_spec:spec",
    **{name: f"{_WORKFLOW}:{name.replace('-', '_')}" for name in (
        "start", "plan", "ready", "step", "loop", "check", "status", "logs", "tune", "use",
        "msg", "check-templates", "review",
    )},
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ralph")
def ralph() -> None:
    """Turn a spec into issues and work them, one fresh agent session per issue."""


def main() -> None:
    ralph(prog_name="ralph")
