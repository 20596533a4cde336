"""Launching a sandbox end to end: resolve, plan, check, stage, run, clean up.

The one implementation behind ``wrapix run``, the TUI's "new sandbox" and Ralph's
per-step sandboxes. :func:`prepare` does everything that can fail before anything is
started (bad input is reported with nothing left behind); :func:`run_foreground` and
:func:`run_detached` then start it — an ``allowlist`` sandbox only once its egress proxy
listens (:mod:`wrapix_core.egress.control`), and never when it cannot.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wrapix_core.agents.registry import AgentName
from wrapix_core.egress.policy import Mode
from wrapix_core.errors import WrapixError
from wrapix_core.image.progress import BuildEvent, ProgressCallback
from wrapix_core.image.progress import ignore as ignore_progress
from wrapix_core.profiles import Mount, Profile, ProfileCatalog, load_catalog
from wrapix_core.sandbox import launchchecks, naming, staging
from wrapix_core.sandbox.host import gather
from wrapix_core.sandbox.model import HostFacts, LaunchPlan, RalphEnv, SandboxSpec, SessionMount
from wrapix_core.sandbox.plan import plan_podman, protected_paths
from wrapix_core.sandbox.runtime import Runtime, get_runtime
from wrapix_core.settings import SandboxSettings, Settings


class ImageMissing(WrapixError):
    """The sandbox image is not in the runtime's store."""


class SandboxRunning(WrapixError):
    """A sandbox with this name is already running."""


@dataclass(frozen=True)
class LaunchRequest:
    """What a caller asks for; everything else comes from settings and the profile."""

    workspace: Path
    profile: str | None = None
    image: str | None = None
    detach: bool = False
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    allow_host_mounts: bool = False
    name: str | None = None
    ralph: RalphEnv | None = None
    role: str = "agent"
    interactive: bool = True
    tty: bool | None = None
    """None: a TTY when detached (for attach) or when stdin is a terminal."""
    network: Mode | None = None
    """Egress mode (``--network``); None: ``sandbox.network``, then the profile's."""
    session: SessionMount | None = None
    """Run on a session (the workspace is then the session's repository)."""
    agent: AgentName | None = None
    """The agent to run (``--agent``); None: the profile's, then ``sandbox.agent``."""


@dataclass(frozen=True)
class Prepared:
    spec: SandboxSpec
    plan: LaunchPlan
    runtime: Runtime
    facts: HostFacts
    notes: list[str]
    """What wrapix did on the way (built an image, replaced a stopped sandbox)."""
    warnings: list[str]
    """What the user should know about this sandbox (limits ignored, no notifications)."""


def resolve_workspace(path: Path) -> Path:
    workspace = path.expanduser()
    if not workspace.exists():
        raise WrapixError(f"workspace {workspace} does not exist",
                          "create it or pass an existing directory")
    if not workspace.is_dir():
        raise WrapixError(f"workspace {workspace} is not a directory", "pass a directory")
    return workspace.resolve()


def check_target(spec: SandboxSpec, settings: SandboxSettings) -> launchchecks.Target:
    """What :mod:`.launchchecks` looks at for ``spec`` (recorded for the fast path too)."""
    return launchchecks.Target(str(spec.workspace), protected_paths(spec, settings))


def _session_id(detach: bool) -> str | None:
    """The tmux pane this foreground sandbox runs in, for focus-aware notifications."""
    if detach or not os.environ.get("TMUX"):
        return None
    try:
        from wrapix_core.notify.sessions import current_tmux_session_id
    except ImportError:
        return None
    return current_tmux_session_id()


async def resolve_image(request: LaunchRequest, profile: Profile, settings: Settings,
                        runtime: Runtime, on_build: ProgressCallback | None,
                        notes: list[str]) -> str:
    """The image to run: named explicitly, or the profile's content-addressed image,
    built first (with progress, and saying so) when it does not exist yet."""
    named = request.image or profile.image
    if named:
        if not await runtime.image_exists(named):
            raise ImageMissing(
                f"image {named} is not available",
                "pull or build it, or drop --image / the profile's `image` setting to let "
                "wrapix build one")
        return named
    from wrapix_core.image.builder import ImageBuilder, choose_backend

    builder = ImageBuilder(settings.sandbox, settings.image)
    inputs = await builder.inputs(profile, choose_backend(settings.image),
                                  on_event=on_build or ignore_progress)
    if await runtime.image_exists(inputs.tag):
        return inputs.tag
    if on_build is None:
        raise ImageMissing(f"image {inputs.tag} for profile '{profile.name}' is not built",
                           f"build it with `wrapix image build --profile {profile.name}`")
    on_build(BuildEvent(f"building {inputs.tag} for profile '{profile.name}' (first use)"))
    built = await builder.build(inputs, on_event=on_build)
    notes.append(f"built {built.tag} for profile '{profile.name}'")
    return built.tag


def choose_profile(request: LaunchRequest, settings: Settings,
                   catalog: ProfileCatalog) -> tuple[Profile, AgentName | None]:
    """The profile ``request`` runs (with its agent installed) and that agent."""
    profile = catalog.get(request.profile or settings.sandbox.profile)
    agent = request.agent or profile.default_agent(settings.sandbox.agent)
    if profile.agent is not False:  # a profile without agents brings its own (tests)
        profile = profile.with_agent(request.agent, settings.sandbox.agent)
    return profile, agent


async def prepare(request: LaunchRequest, settings: Settings, *,
                  catalog: ProfileCatalog | None = None,
                  runtime: Runtime | None = None, check_image: bool = True,
                  on_build: ProgressCallback | None = None) -> Prepared:
    """Resolve and plan ``request``; raises before anything is started.

    ``on_build`` receives image-build progress when the profile's image must be built
    first; without it a missing image is an error that says how to build it.
    ``check_image=False`` (dry runs) neither checks nor builds.
    """
    workspace = resolve_workspace(request.workspace)
    profile, agent = choose_profile(request, settings, catalog or load_catalog(workspace))
    runtime = runtime or get_runtime(settings.sandbox)
    notes: list[str] = []
    if check_image:
        image = await resolve_image(request, profile, settings, runtime, on_build, notes)
    else:
        image = request.image or profile.image or f"localhost/wrapix-{profile.name}:<inputs>"
    tty = request.tty if request.tty is not None else (request.detach or sys.stdin.isatty())
    spec = SandboxSpec(
        workspace=workspace, profile=profile, image=image,
        name=request.name or naming.container_name(workspace), detach=request.detach,
        interactive=request.interactive, tty=tty, remove=not request.detach,
        command=request.command, env=dict(request.env), mounts=request.mounts,
        allow_host_mounts=request.allow_host_mounts, ralph=request.ralph, role=request.role,
        network=request.network, session=request.session, agent=agent,
    )
    launchchecks.run(check_target(spec, settings.sandbox))  # the fast path runs the same
    caps = await runtime.caps()
    facts = await gather(spec, settings.sandbox, caps, session_id=_session_id(request.detach))
    if runtime.name == "apple":
        from wrapix_core.sandbox.apple import plan_apple
        from wrapix_core.sandbox.plan import PlanError, network_mode

        if network_mode(spec, settings.sandbox) != "open":
            raise PlanError("egress modes other than 'open' are not available with Apple "
                            "container yet", "use --network open on macOS, or Podman")

        plan = plan_apple(spec, facts, settings.sandbox, runtime.executable)
    else:
        plan = plan_podman(spec, facts, settings.sandbox, runtime.executable)
    if await runtime.container_exists(spec.name):
        info = await runtime.inspect(spec.name)
        if info.running:
            raise SandboxRunning(
                f"sandbox {spec.name} is already running for {workspace}",
                f"attach with `wrapix attach {spec.name}` or stop it with "
                f"`wrapix stop {spec.name}`")
        await runtime.remove(spec.name)
        notes.append(f"removed the stopped sandbox {spec.name} to start a fresh one")
    if check_image:  # a launch, not a dry run: keep what it leaves out of commits
        from wrapix_core.sandbox.gitexclude import exclude_sandbox_files

        if (problem := exclude_sandbox_files(str(workspace))) is not None:
            notes.append(problem)
    return Prepared(spec, plan, runtime, facts, notes, list(plan.warnings))


@contextlib.contextmanager
def _registered(session_id: str | None) -> Iterator[None]:
    if session_id is None:
        yield
        return
    from wrapix_core.notify import sessions

    sessions.register_session(session_id, sessions.focused_window_id())
    try:
        yield
    finally:
        sessions.unregister_session(session_id)


def _start_proxy(prepared: Prepared) -> int | None:
    """The egress proxy's pid for an ``allowlist`` sandbox (started and listening);
    None in the other modes. Raises when it cannot be set up."""
    plan = prepared.plan
    if plan.network != "allowlist":
        return None
    from wrapix_core.egress import control

    return control.start(plan.name, plan.allowlist, prepared.runtime.executable)


def _stop_proxy(prepared: Prepared, pid: int | None) -> None:
    if pid is not None:
        from wrapix_core.egress import control

        control.stop(prepared.plan.name, pid)


def run_foreground(prepared: Prepared) -> int:
    """Run attached to this terminal until the sandbox exits; returns its exit code."""
    session_id = prepared.plan.container_env.get("WRAPIX_SESSION_ID")
    proxy: int | None = None
    try:
        staging.perform(prepared.plan.staging)
        proxy = _start_proxy(prepared)
        with _registered(session_id):
            return prepared.runtime.launch_foreground(prepared.plan)
    finally:
        _stop_proxy(prepared, proxy)
        staging.undo(prepared.plan.staging)


async def run_detached(prepared: Prepared) -> str:
    """Start in the background (with a TTY, for attach); returns the container id. An
    allowlist sandbox's proxy stays behind it and ends when the container stops."""
    import asyncio

    proxy: int | None = None
    try:
        staging.perform(prepared.plan.staging)
        proxy = await asyncio.to_thread(_start_proxy, prepared)
        return await prepared.runtime.launch_detached(prepared.plan)
    except BaseException:
        await asyncio.to_thread(_stop_proxy, prepared, proxy)
        staging.undo(prepared.plan.staging)
        raise
