"""`wrapix profiles`: what each profile installs, sets and mounts."""

from __future__ import annotations

from pathlib import Path

import click

from wrapix_core.cli.base import echo_json
from wrapix_core.profiles import load_catalog


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              help="Workspace whose wrapix.toml profiles to include (default: here).")
def profiles(as_json: bool, directory: Path | None) -> None:
    """List profiles with their agents, packages, environment and mounts.

    A profile runs its default agent and holds the others it lists in its image;
    `wrapix run --agent NAME` picks one of those (or adds one, in another image)."""
    from wrapix_core.settings import load_settings

    workspace = (directory or Path.cwd()).resolve()
    catalog = load_catalog(workspace)
    fallback = load_settings(workspace if workspace.is_dir() else None).sandbox.agent
    items = catalog.all()
    if as_json:
        echo_json([{**profile.model_dump(mode="json"), "source": catalog.source(profile.name),
                    "default_agent": profile.default_agent(fallback),
                    "runs_agents": list(profile.installed_agents(fallback))}
                   for profile in items])
        return
    from rich.console import Console
    from rich.text import Text

    console = Console()
    for profile in items:
        head = Text.assemble((profile.name, "bold"), f"  ({catalog.source(profile.name)})")
        if profile.description:
            head.append(f"  {profile.description}", style="dim")
        console.print(head)
        agents = profile.installed_agents(fallback)
        console.print(Text("  agents: " + (", ".join(
            f"{name} (default)" if index == 0 else name for index, name in enumerate(agents))
            or "none")))
        console.print(Text("  packages: " + (", ".join(profile.package_names()) or "-")))
        for key, value in profile.env.items():
            console.print(Text(f"  env: {key}={value}"))
        for mount in profile.mounts:
            flag = ", optional" if mount.optional else ""
            console.print(Text(f"  mount: {mount.source} -> {mount.dest} ({mount.mode}{flag})"))
        if profile.image:
            console.print(Text(f"  image: {profile.image}"))
