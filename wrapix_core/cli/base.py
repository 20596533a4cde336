"""What every wrapix command line shares: error reporting, exit codes, async entry.

Exit codes (documented in the README): 0 success; 1 an operation failed; 2 bad input
or a missing prerequisite, nothing was started; 130 interrupted. Ralph adds 100
(nothing left to do) and 101 (stuck).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from wrapix_core.errors import WrapixError

T = TypeVar("T")


def fail(prog: str, error: WrapixError) -> None:
    """Print ``error`` as one line on stderr and exit with its code.

    Messages can quote untrusted text (a tool's stderr, an issue id, a file excerpt), so
    control characters are escaped: one line, and nothing a terminal would act on.
    """
    from wrapix_core.untrusted import line

    click.echo(f"{prog}: error: {line(str(error))}", err=True)
    sys.exit(error.exit_code)


class CliGroup(click.Group):
    """A click group that turns :class:`WrapixError` into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WrapixError as error:
            fail(ctx.find_root().info_name or "wrapix", error)
        except KeyboardInterrupt:
            click.echo("", err=True)
            sys.exit(130)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a synchronous click command."""
    return asyncio.run(coro)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (paths and other objects become strings)."""
    click.echo(json.dumps(data, indent=2, default=str))


def warn(prog: str, message: str) -> None:
    click.echo(f"{prog}: warning: {message}", err=True)
