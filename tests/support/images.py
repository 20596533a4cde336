"""Images built by wrapix itself, for tests that need wrapix inside a sandbox."""

from __future__ import annotations

import asyncio

from wrapix_core.image.builder import ImageBuilder
from wrapix_core.profiles import Package, Profile
from wrapix_core.settings import ImageSettings, SandboxSettings

TEST_PROFILE = Profile(
    name="wrapix-test",
    description="small profile for tests: wrapix, git, jq; no agent",
    packages=(Package.simple("git"), Package.simple("jq"), Package.simple("procps"),
              Package.simple("tmux")),
    agent=False,
)


def build(base: str, profile: Profile = TEST_PROFILE, **image: object) -> str:
    """Build (or find, when inputs are unchanged) ``profile``'s image; returns its tag."""
    builder = ImageBuilder(SandboxSettings(), ImageSettings(base=base, **image))  # type: ignore[arg-type]
    built = asyncio.run(builder.ensure(profile, backend="containerfile"))
    return built.tag
