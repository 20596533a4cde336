"""`wrapix doctor [--json] [--fix]`: every prerequisite, a verdict each, and the fix."""

from __future__ import annotations

import sys

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.doctor import Doctor, Report, render
from wrapix_core.settings import load_settings
from wrapix_core.untrusted import line as safe_line


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--fix", is_flag=True,
              help="Apply the fixes that destroy nothing, then check again.")
def doctor(as_json: bool, fix: bool) -> None:
    """Check every prerequisite of a sandbox: a verdict each, and the fix.

    Exit code 0 when nothing failed (warnings allowed), 1 otherwise.
    """
    settings = load_settings(None)

    async def go() -> Report:
        report = await Doctor(settings).run()
        if fix and any(check.fixable for check in report.checks):
            def say(text: str) -> None:
                click.echo(safe_line(f"wrapix doctor: {text}"), err=True)

            await Doctor(settings).fix(report, say)
            report = await Doctor(settings).run()
        return report

    report = run_async(go())
    if as_json:
        echo_json(report.to_json())
    else:
        for text in render(report):
            click.echo(text)
    sys.exit(0 if report.ok else 1)

