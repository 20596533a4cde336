"""`wrapix audit [DIR]`: list, and with --fix move aside, what a sandbox planted in a
workspace to redirect the host's git (see :mod:`wrapix_core.sandbox.gitguard`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wrapix_core.cli.base import echo_json
from wrapix_core.errors import WrapixError
from wrapix_core.sandbox import gitguard
from wrapix_core.untrusted import line


def _say(text: str) -> None:
    click.echo(line(text))  # paths are the sandbox's choice


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--fix", is_flag=True,
              help="Move what was planted aside (renamed, never deleted); asks first.")
@click.option("--yes", "-y", is_flag=True, help="With --fix: do not ask.")
def audit(directory: Path | None, as_json: bool, fix: bool, yes: bool) -> None:
    """Check DIRECTORY (default: here) for git redirection planted from a sandbox.

    Lists `.git/commondir`, linked-worktree and submodule entries, `config.worktree` and
    nested repositories whose config or hooks would make git on this host run a command.
    --fix renames each aside to NAME.wrapix-quarantine-TIME, so git no longer reads it
    and nothing is lost. Exit status: 0 clean, 2 something found (and left in place).
    """
    workspace = (directory or Path.cwd()).expanduser()
    if not workspace.is_dir():
        raise WrapixError(f"{workspace} is not a directory", "pass a workspace directory")
    if as_json and fix and not yes:
        raise WrapixError("--json --fix cannot ask before moving files",
                          "add --yes, or drop --json to be asked")
    root = str(workspace.resolve())
    findings = gitguard.scan(root)
    moved: list[tuple[str, str]] = []
    if findings and fix:
        if not as_json:
            for text in gitguard.report(root, findings):
                _say(text)
        if not yes and not click.confirm("Move these aside?", default=False):
            raise WrapixError("nothing was moved", "run `wrapix audit --fix` again when ready")
        try:
            moved = gitguard.neutralise(root, findings)
        except OSError as exc:
            raise WrapixError(f"could not move {exc.filename} aside: {exc.strerror}",
                              "move it yourself, then run `wrapix audit` again") from None
        for old, new in moved if not as_json else ():
            _say(f"moved {old} to {new}")
        findings = gitguard.scan(root)
    if as_json:
        echo_json({"workspace": root, "findings": [f.to_json() for f in findings],
                   "moved": [{"from": old, "to": new} for old, new in moved]})
    elif not findings:
        _say(f"{root}: no git redirection found" + (" any more" if moved else ""))
    elif moved or not fix:
        for text in gitguard.report(root, findings):
            _say(text)
    if findings:
        if fix and not as_json:
            _say("left in place (wrapix cannot undo these safely): "
                 + gitguard.summary(findings, limit=20))
        sys.exit(gitguard.REDIRECTED)
