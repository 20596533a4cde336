"""`wrapix trust [DIR]`: review and trust a project's wrapix.toml (see wrapix_core.trust)."""

from __future__ import annotations

from pathlib import Path

import click

from wrapix_core import trust as trust_store
from wrapix_core import workspace_fs
from wrapix_core.errors import WrapixError
from wrapix_core.settings import PROJECT_FILE, parse_toml
from wrapix_core.untrusted import block


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--revoke", is_flag=True, help="Stop trusting it.")
@click.option("--yes", "-y", is_flag=True, help="Trust without showing the file first.")
def trust(directory: Path | None, revoke: bool, yes: bool) -> None:
    """Trust DIRECTORY's wrapix.toml as it is now (default: here).

    Agents in sandboxes can write the workspace, so wrapix obeys a project's wrapix.toml
    only after you have read and trusted that exact content; any change needs trusting
    again.
    """
    path = (directory or Path.cwd()).resolve() / PROJECT_FILE
    if revoke:
        found = trust_store.revoke(path)
        click.echo(f"{path}: {'no longer trusted' if found else 'was not trusted'}")
        return
    try:
        data = workspace_fs.read_bytes(path.parent, path.name)  # a link is refused
    except OSError as exc:
        raise WrapixError(f"{path}: cannot read ({exc.strerror})",
                          "run this in a directory with a wrapix.toml") from None
    try:
        parse_toml(path, data)  # a file wrapix cannot read is not one to vouch for
    except WrapixError as exc:
        raise WrapixError(f"not trusted: {exc.message}",
                          "fix the file, then run `wrapix trust` again") from None
    if trust_store.is_trusted(path, data) and not yes:
        click.echo(f"{path} is already trusted as it is")
        return
    if not yes:
        click.echo(f"--- {path}")
        click.echo(block(data.decode("utf-8", errors="replace")))
        click.echo("---")
        if not click.confirm("Trust this file as it is now?", default=False):
            raise WrapixError(f"{path} was not trusted", "run `wrapix trust` again when ready")
    trust_store.trust(path, data)
    click.echo(f"trusted {path}")
