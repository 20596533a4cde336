"""Building images: resolve the base, hash the inputs, build only when the tag is missing.

A build either tags its image or reports a failure with the failing step's last lines;
the tag is applied only after the whole build succeeded, so a half-built image is never
reported as built.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wrapix_core import paths, proc
from wrapix_core.errors import WrapixError
from wrapix_core.image import base as base_recipes
from wrapix_core.image import progress as progress_events
from wrapix_core.image.inputs import LABEL_IMAGE, LABEL_INPUTS, LABEL_PROFILE, Backend, BuildInputs
from wrapix_core.image.inputs import gather as gather_inputs
from wrapix_core.image.progress import BuildEvent, ProgressCallback
from wrapix_core.profiles import Profile
from wrapix_core.runtime_cli import RuntimeFailed, RuntimeHung, call_podman
from wrapix_core.settings import ImageSettings, SandboxSettings

VFS_NOTE = ("Podman stores images with the slow vfs driver (a full copy per layer: a build "
            "takes minutes and gigabytes more than with overlay); `wrapix doctor` says how "
            "to switch, and `wrapix doctor --fix` does it while Podman holds no image")
TAIL_LINES = 12
PULL_TIMEOUT = 600.0


class ImageBuildError(WrapixError):
    """A build step failed; the message carries the step and its last output lines."""

    exit_code = 1


class BaseImageMissing(WrapixError):
    """The base image is neither present nor pullable."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    built: bool
    """False when the tag already existed and nothing was built."""


@dataclass(frozen=True)
class ImageInfo:
    tag: str
    image_id: str
    profile: str
    inputs: str
    created: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def nix_usable() -> bool:
    """Nix is installed *and* has a nixpkgs to build from (Nix alone cannot build images)."""
    if not shutil.which("nix-build") or not shutil.which("nix-instantiate"):
        return False
    try:
        proc.run_sync(["nix-instantiate", "--find-file", "nixpkgs"], timeout=10)
    except proc.ProcError:
        return False
    return True


def choose_backend(settings: ImageSettings, requested: str | None = None) -> Backend:
    """The backend to use; ``auto`` means Nix where it can build, else a Containerfile."""
    choice = requested or settings.backend
    if choice == "auto":
        return "nix" if nix_usable() else "containerfile"
    if choice not in ("containerfile", "nix"):
        raise WrapixError(f"unknown image backend '{choice}'", "use containerfile or nix")
    if choice == "nix" and not shutil.which("nix-build"):
        raise WrapixError("the nix backend needs Nix, and nix-build is not on PATH",
                          "install Nix, or use --backend containerfile")
    return "nix" if choice == "nix" else "containerfile"


class ImageBuilder:
    """Builds wrapix images with Podman (the Containerfile backend) or Nix."""

    def __init__(self, sandbox: SandboxSettings, image: ImageSettings):
        self.podman = sandbox.podman
        self.timeout = sandbox.command_timeout
        self.settings = image
        self._driver_checked = False

    async def _podman(self, *args: str, timeout: float | None = None,
                      check: bool = True) -> proc.Completed:
        return await call_podman(self.podman, args, timeout=timeout or self.timeout,
                                 check=check)

    async def warn_if_vfs(self, on_event: ProgressCallback) -> None:
        """Before the first build: say so when Podman uses the vfs storage driver."""
        if self._driver_checked:
            return
        self._driver_checked = True
        done = await self._podman("info", "--format", "{{.Store.GraphDriverName}}",
                                  check=False)
        if done.returncode == 0 and done.stdout.strip() == "vfs":
            on_event(BuildEvent(VFS_NOTE, note=True))

    async def image_id(self, reference: str) -> str | None:
        done = await self._podman("image", "inspect", "--format", "{{.Id}}", reference,
                                  check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    async def resolve_base(self, base: str, on_event: ProgressCallback = progress_events.ignore,
                           ) -> tuple[str, str]:
        """The image to build on, as (reference, id).

        ``base`` itself when it is present or can be pulled; otherwise, for a Debian base,
        one wrapix makes from Debian's packages (:mod:`wrapix_core.image.base`), once:
        its content-addressed tag is reused by every later build.
        """
        found = await self.image_id(base)
        if found:
            return base, found
        recipe = base_recipes.recipe_for(base)
        if recipe is not None:
            made = await self.image_id(recipe.tag)
            if made:
                return recipe.tag, made
        try:
            await self._podman("pull", "--quiet", base, timeout=PULL_TIMEOUT)
        except (RuntimeFailed, RuntimeHung) as exc:
            why = base_recipes.cannot_make(base)
            if recipe is None or why is not None:
                raise BaseImageMissing(
                    f"base image {base} is not present and could not be pulled "
                    f"({exc.message}), and wrapix cannot make one here",
                    why or "set image.base (or --base) to an image you have") from None
            return recipe.tag, await self.make_base(recipe, base, exc.message, on_event)
        found = await self.image_id(base)
        if not found:
            raise BaseImageMissing(f"base image {base} vanished after pulling it")
        return base, found

    async def make_base(self, recipe: base_recipes.BaseRecipe, base: str, why: str,
                        on_event: ProgressCallback = progress_events.ignore) -> str:
        """Make the Debian base ``recipe`` describes (mmdebstrap, then podman import)."""
        started = time.monotonic()
        await self.warn_if_vfs(on_event)
        on_event(BuildEvent(
            f"building a Debian {recipe.suite} base from Debian's packages with mmdebstrap "
            f"(once; it is kept as {recipe.tag}), because {base} could not be pulled: "
            f"{why}", note=True))
        workdir = paths.ensure_private_dir(paths.cache_dir() / "build")
        with tempfile.TemporaryDirectory(dir=workdir, prefix="base-") as tmp:
            tarball = Path(tmp) / "rootfs.tar"
            steps = 2
            on_event(BuildEvent(f"STEP 1/{steps}: mmdebstrap {recipe.suite}", 1, steps))
            await self._stream(recipe.mmdebstrap_argv(tarball), on_event,
                               f"making the Debian {recipe.suite} base with mmdebstrap")
            on_event(BuildEvent(f"STEP 2/{steps}: podman import {recipe.tag}", 2, steps))
            await self._podman("import", "--quiet", "--change",
                               f"LABEL {base_recipes.LABEL}={recipe.digest}",
                               "--change", 'CMD ["/bin/bash"]', str(tarball), recipe.tag,
                               timeout=self.settings.build_timeout)
        made = await self.image_id(recipe.tag)
        if not made:
            raise ImageBuildError(f"podman import did not produce {recipe.tag}")
        on_event(BuildEvent(f"built the base {recipe.tag} in "
                            f"{time.monotonic() - started:.0f} s; later builds reuse it",
                            note=True))
        return made

    async def inputs(self, profile: Profile, backend: Backend, base: str | None = None, *,
                     entrypoint: bytes | None = None,
                     on_event: ProgressCallback = progress_events.ignore) -> BuildInputs:
        base_name = base or self.settings.base
        base_id = None
        if backend == "containerfile":
            base_name, base_id = await self.resolve_base(base_name, on_event)
        return await asyncio.to_thread(gather_inputs, profile, self.settings, backend,
                                       base=base_name, base_id=base_id, entrypoint=entrypoint)

    async def build(self, inputs: BuildInputs, *, no_cache: bool = False,
                    on_event: ProgressCallback = progress_events.ignore) -> BuiltImage:
        """Build ``inputs`` unless its tag exists (``no_cache`` always builds afresh)."""
        existing = await self.image_id(inputs.tag)
        if existing and not no_cache:
            return BuiltImage(inputs.tag, existing, built=False)
        await self.warn_if_vfs(on_event)
        workdir = paths.ensure_private_dir(paths.cache_dir() / "build")
        with tempfile.TemporaryDirectory(dir=workdir, prefix=f"{inputs.digest[:12]}-") as tmp:
            recipe = inputs.write_context(Path(tmp))
            if inputs.backend == "nix":
                image_id = await self._build_nix(inputs, recipe, on_event)
            else:
                image_id = await self._build_containerfile(inputs, recipe, no_cache, on_event)
        await self._podman("tag", image_id, inputs.tag)
        return BuiltImage(inputs.tag, image_id, built=True)

    async def _stream(self, argv: list[str], on_event: ProgressCallback,
                      what: str) -> deque[str]:
        """Run a build command, reporting each line; raise with the tail on failure."""
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        step = "(before the first step)"
        try:
            async with asyncio.timeout(self.settings.build_timeout):
                async with proc.open_lines(argv, stderr_to_stdout=True) as lines:
                    async for line in lines:
                        event = progress_events.parse(line)
                        if event.starts_step:
                            step = line.strip()
                            tail.clear()
                        tail.append(line)
                        on_event(event)
        except proc.CommandNotFound:
            raise WrapixError(f"{argv[0]} is not installed", f"it is needed to {what}") from None
        except proc.CommandFailed:
            last = "\n  ".join(tail)
            raise ImageBuildError(f"{what} failed at {step}; its last lines:\n  {last}",
                                  "fix the cause above and build again") from None
        except TimeoutError:
            raise ImageBuildError(f"{what} did not finish within "
                                  f"{self.settings.build_timeout:g}s at {step}",
                                  "raise image.build_timeout if it is merely slow") from None
        return tail

    async def _build_containerfile(self, inputs: BuildInputs, recipe: Path, no_cache: bool,
                                   on_event: ProgressCallback) -> str:
        iidfile = recipe.parent / ".iid"
        argv = [self.podman, "build", "--timestamp", "0", "--iidfile", str(iidfile),
                "-f", str(recipe)]
        if no_cache:
            argv.append("--no-cache")
        argv.append(str(recipe.parent))
        await self._stream(argv, on_event, f"building {inputs.tag}")
        image_id = iidfile.read_text().strip() if iidfile.exists() else ""
        if not image_id:
            raise ImageBuildError(f"building {inputs.tag} reported success but no image id")
        return image_id.removeprefix("sha256:")

    async def _build_nix(self, inputs: BuildInputs, recipe: Path,
                         on_event: ProgressCallback) -> str:
        out = recipe.parent / "result"
        await self._stream(["nix-build", "--out-link", str(out), str(recipe)], on_event,
                           f"building {inputs.tag} with Nix")
        on_event(BuildEvent(f"loading {inputs.tag} into podman"))
        load = await proc.run(["sh", "-c", '"$0" | "$1" load', str(out), self.podman],
                              timeout=self.settings.build_timeout)
        loaded = load.stdout.strip().rsplit(" ", 1)[-1]
        image_id = await self.image_id(loaded)
        if not image_id:
            raise ImageBuildError(f"podman load did not produce {loaded}")
        return image_id

    async def images(self) -> list[ImageInfo]:
        done = await self._podman("images", "--filter", f"label={LABEL_IMAGE}=1",
                                  "--format", "json")
        try:
            data = json.loads(done.stdout or "[]")
        except json.JSONDecodeError:
            raise WrapixError("podman images did not return JSON") from None
        found: list[ImageInfo] = []
        for item in data:
            labels = item.get("Labels") or {}
            for name in item.get("Names") or [f"<untagged>:{item.get('Id', '')[:12]}"]:
                found.append(ImageInfo(tag=name, image_id=str(item.get("Id", ""))[:12],
                                       profile=labels.get(LABEL_PROFILE, ""),
                                       inputs=labels.get(LABEL_INPUTS, "")[:12],
                                       created=str(item.get("CreatedAt", "")),
                                       size=int(item.get("Size", 0) or 0)))
        return found

    async def ensure(self, profile: Profile, *, backend: str | None = None,
                     base: str | None = None, entrypoint: bytes | None = None,
                     on_event: ProgressCallback = progress_events.ignore) -> BuiltImage:
        """The image for ``profile``, built first when missing."""
        chosen = choose_backend(self.settings, backend)
        inputs = await self.inputs(profile, chosen, base, entrypoint=entrypoint,
                                   on_event=on_event)
        return await self.build(inputs, on_event=on_event)

