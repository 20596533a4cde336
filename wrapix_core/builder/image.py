"""The builder's image: wrapix's image builder, a builder profile, its own entrypoint.

The profile is a Debian base with ``openssh-server`` and Nix (Debian's ``nix-bin``;
the Nix backend uses nixpkgs' ``openssh`` and ``nix``), no agent. The entrypoint
(package data, ``data/entrypoint.sh``) replaces the sandbox one: it sets up the
``builder`` user, sshd and the Nix daemon. Because the entrypoint's bytes are an
input of the image hash, changing it gives a new tag, and so a re-initialised store.
"""

from __future__ import annotations

from pathlib import Path

from wrapix_core.builder.errors import BuilderImageMissing
from wrapix_core.builder.events import BuilderCallback, BuilderEvent
from wrapix_core.builder.events import ignore as ignore_events
from wrapix_core.image.progress import BuildEvent
from wrapix_core.profiles import Package, Profile
from wrapix_core.sandbox.runtime import Runtime
from wrapix_core.settings import Settings

ENTRYPOINT = Path(__file__).parent / "data" / "entrypoint.sh"

PROFILE = Profile(
    name="builder",
    description="Linux remote builder: sshd and the Nix daemon",
    packages=(
        Package(name="openssh-server", nix="openssh", debian=("openssh-server",)),
        Package.simple("nix", debian="nix-bin"),
    ),
    agent=False,
)


def entrypoint() -> bytes:
    return ENTRYPOINT.read_bytes()


async def ensure(runtime: Runtime, settings: Settings, *, base: str | None = None,
                 on_event: BuilderCallback = ignore_events) -> str:
    """The builder image's reference, built first when it is missing.

    ``builder.image`` names a ready image instead (it must exist in the runtime);
    ``base`` overrides ``image.base`` for the build.
    """
    named = settings.builder.image
    if named:
        if not await runtime.image_exists(named):
            raise BuilderImageMissing(f"builder image {named} (builder.image) is not available",
                                      "pull or load it, or unset builder.image to let "
                                      "wrapix build one")
        return named
    from wrapix_core.image.builder import ImageBuilder, choose_backend

    def forward(event: BuildEvent) -> None:
        on_event(BuilderEvent("image", event.line, build=event))

    builder = ImageBuilder(settings.sandbox, settings.image)
    inputs = await builder.inputs(PROFILE, choose_backend(settings.image), base,
                                  entrypoint=entrypoint(), on_event=forward)
    if await runtime.image_exists(inputs.tag):
        return inputs.tag
    on_event(BuilderEvent("image", f"building the builder image {inputs.tag} "
                                   f"from {inputs.recipe.base}"))
    built = await builder.build(inputs, on_event=forward)
    if not await runtime.image_exists(built.tag):
        raise BuilderImageMissing(f"built {built.tag}, but {runtime.name} cannot see it",
                                  "load it into the runtime, or set builder.image")
    on_event(BuilderEvent("image", f"built {built.tag}"))
    return built.tag
