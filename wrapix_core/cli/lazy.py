"""Click groups whose subcommands live in their own modules, imported only when used.

Keeps ``wrapix ls`` from paying for the image builder or the task store, and lets each
component own its command-line module.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from wrapix_core.cli.base import CliGroup
from wrapix_core.errors import NotImplementedYet


class LazyGroup(CliGroup):
    """A group with ``lazy`` subcommands given as ``{"name": "module:attribute"}``."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> click.Command:
        module_name, attribute = self.lazy[name].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _unbuilt(name)
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name]} is not a click command")
        return command


def _unbuilt(name: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True},
                   help="Not implemented yet.")
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args: tuple[str, ...]) -> None:
        raise NotImplementedYet(name)

    return command
