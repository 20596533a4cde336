"""`wrapix doctor [--json] [--fix]`: every prerequisite, a verdict each, and the fix."""

from __future__ import annotations

import sys

import click

from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.doctor import Check, Doctor, Report
from wrapix_core.settings import load_settings
from wrapix_core.tasks.display import line as safe_line

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def render(report: Report) -> list[str]:
    """The report as text lines: one line per check, its fix indented under it."""
    width = max(len(check.name) for check in report.checks)
    lines: list[str] = []
    for check in report.checks:
        lines.append(safe_line(f"{MARKS[check.status]}  {check.name:<{width}}  {check.detail}"))
        if check.fix and (check.status != "ok" or check.fixable):
            lines.append(safe_line(f"{'':{width + 8}}fix: {check.fix}"))
    failed = [check.name for check in report.checks if check.status == "fail"]
    warned = [check.name for check in report.checks if check.status == "warn"]
    if failed:
        lines.append(f"{len(failed)} check(s) failed: sandboxes may not start.")
    elif warned:
        lines.append(f"sandboxes can start; {len(warned)} warning(s).")
    else:
        lines.append("everything wrapix needs is in place.")
    if any(check.fixable for check in report.checks):
        lines.append("`wrapix doctor --fix` applies the fixes marked safe (it deletes nothing).")
    return lines


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


__all__ = ["Check", "doctor", "render"]
