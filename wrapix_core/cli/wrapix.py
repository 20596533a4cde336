"""`wrapix`: launch and manage sandboxes; `wrapix [DIR]` is `wrapix run [DIR]`.

Subcommands live in their own modules and load on first use (see :mod:`.lazy`).
"""

from __future__ import annotations

import click

from wrapix_core import __version__
from wrapix_core.cli.commands import SUBCOMMANDS
from wrapix_core.cli.lazy import LazyGroup


class WrapixGroup(LazyGroup):
    """Treats anything that is not a subcommand as arguments of ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.list_commands(ctx)
                        and args[0] not in ("--help", "-h", "--version")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=WrapixGroup, lazy=SUBCOMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wrapix")
def wrapix() -> None:
    """Run AI coding agents in rootless containers.

    `wrapix [DIR]` launches a sandbox for DIR (default: the current directory) in the
    foreground, like `wrapix run [DIR]`.
    """


def main() -> None:
    wrapix(prog_name="wrapix")
