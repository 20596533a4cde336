"""`wrapix image build|ls`: the images sandboxes run in."""

from __future__ import annotations

from pathlib import Path

import click

from wrapix_core.cli.base import CliGroup, echo_json, run_async
from wrapix_core.cli.progress import build_progress
from wrapix_core.image.builder import BuiltImage, ImageBuilder, choose_backend
from wrapix_core.profiles import load_catalog
from wrapix_core.settings import load_settings


@click.group(cls=CliGroup)
def image() -> None:
    """Build and list sandbox images."""


@image.command()
@click.option("--profile", "-p", help="Profile to build (default: the settings' profile).")
@click.option("--backend", type=click.Choice(["containerfile", "nix"]),
              help="Image backend (default: nix when it has a nixpkgs, else containerfile).")
@click.option("--base", help="Base image for the containerfile backend.")
@click.option("--no-cache", is_flag=True, help="Rebuild every layer.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              help="Workspace whose wrapix.toml to read (default: here).")
def build(profile: str | None, backend: str | None, base: str | None, no_cache: bool,
          as_json: bool, directory: Path | None) -> None:
    """Build the image for a profile (nothing is rebuilt when its inputs are unchanged)."""
    workspace = (directory or Path.cwd()).resolve()
    settings = load_settings(workspace)
    chosen = load_catalog(workspace).get(profile or settings.sandbox.profile)
    builder = ImageBuilder(settings.sandbox, settings.image)

    async def go() -> BuiltImage:
        with build_progress(f"image for profile '{chosen.name}'") as on_event:
            inputs = await builder.inputs(chosen, choose_backend(settings.image, backend), base,
                                          on_event=on_event)
            return await builder.build(inputs, no_cache=no_cache, on_event=on_event)

    result = run_async(go())
    if as_json:
        echo_json({"tag": result.tag, "id": result.image_id, "built": result.built})
    elif result.built:
        click.echo(f"built {result.tag}")
    else:
        click.echo(f"{result.tag} is up to date (inputs unchanged)")


@image.command(name="ls")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_images(as_json: bool) -> None:
    """List images wrapix built."""
    settings = load_settings(None)
    images = run_async(ImageBuilder(settings.sandbox, settings.image).images())
    if as_json:
        echo_json([item.to_json() for item in images])
        return
    if not images:
        click.echo("no wrapix images (build one with `wrapix image build`)")
        return
    for item in images:
        click.echo(f"{item.tag:<50} {item.profile:<12} {item.image_id} "
                   f"{item.size / 1e6:8.1f} MB  {item.created}")
