"""`ralph`: the spec-driven workflow. Subcommands load from their own modules on use.

- :mod:`.commands`: start, use, plan, ready, step, loop, check, logs, tune,
  check-templates; :mod:`.status`, :mod:`.msg` (the clarify inbox), :mod:`.review` (the
  review session), :mod:`.board`, :mod:`.spec`;
- :mod:`.output` (workspace, options, escaped printing, engine events as lines) and
  :mod:`.prompts` (questions on this terminal, ``$EDITOR``) serve them all.

Exit codes beyond the common ones: 100 nothing left to do, 101 stuck (open issues,
none ready).
"""

from __future__ import annotations

import click

from wrapix_core import __version__
from wrapix_core.cli.lazy import LazyGroup

_HERE = "wrapix_core.cli.ralph"
SUBCOMMANDS = {
    "board": f"{_HERE}.board:board",
    "spec": f"{_HERE}.spec:spec",
    "status": f"{_HERE}.status:status",
    "msg": f"{_HERE}.msg:msg",
    "review": f"{_HERE}.review:review",
    **{name: f"{_HERE}.commands:{name.replace('-', '_')}" for name in (
        "start", "plan", "ready", "step", "loop", "check", "logs", "tune", "use",
        "check-templates",
    )},
}


@click.group(cls=LazyGroup, lazy=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ralph")
def ralph() -> None:
    """Turn a spec into issues and work them, one fresh agent session per issue."""


def main() -> None:
    ralph(prog_name="ralph")
