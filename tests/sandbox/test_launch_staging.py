"""A launch whose staging fails part way leaves no staged copies behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.factories import facts, spec
from wrapix_core.errors import WrapixError
from wrapix_core.ralph.agent import SandboxRunner, Session
from wrapix_core.sandbox.launcher import Prepared, run_detached, run_foreground
from wrapix_core.sandbox.model import LaunchPlan, StagingAction
from wrapix_core.settings import RalphSettings, Settings


class NoRuntime:
    """Fails the test if a launch gets as far as the runtime."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the runtime was asked to {name}")


def half_staged(tmp_path: Path) -> tuple[Prepared, Path]:
    """A plan whose first copy works and whose second fails (its source is gone)."""
    good = tmp_path / "dots"
    good.mkdir()
    (good / "rc").write_text("x")
    root = tmp_path / "cache" / "staging" / "wrapix-proj-abc123"
    actions = [StagingAction("clear", root),
               StagingAction("copy", root / "1-dots", source=good),
               StagingAction("copy", root / "2-gone", source=tmp_path / "gone")]
    plan = LaunchPlan(name="wrapix-proj-abc123", argv=["podman", "run"], env={},
                      staging=actions, warnings=[], binds=[], container_env={})
    spec_ = spec()
    prepared = Prepared(spec_, plan, NoRuntime(), facts(spec_), [], [])  # type: ignore[arg-type]
    return prepared, root


def test_foreground_launch_undoes_a_failed_staging(tmp_path: Path) -> None:
    prepared, root = half_staged(tmp_path)
    with pytest.raises(WrapixError, match="could not stage"):
        run_foreground(prepared)
    assert not root.exists()


def test_detached_launch_undoes_a_failed_staging(tmp_path: Path) -> None:
    prepared, root = half_staged(tmp_path)
    with pytest.raises(WrapixError, match="could not stage"):
        asyncio.run(run_detached(prepared))
    assert not root.exists()


def test_a_ralph_session_whose_staging_fails_did_not_start(tmp_path: Path) -> None:
    prepared, root = half_staged(tmp_path)

    class Runner(SandboxRunner):
        async def prepare(self, session: Session, command: list[str], *,
                          interactive: bool) -> Prepared:
            return prepared

        async def cleanup(self, session: Session) -> None:
            raise AssertionError("nothing was started, so nothing is removed")

    runner = Runner(tmp_path, Settings(), RalphSettings(), ["claude"], ".wrapix/ralph")
    log = tmp_path / "logs" / "step.log"
    result = asyncio.run(runner.run(Session("step", "prompt", log, "ralph-x"), print))
    assert result.returncode is None
    assert "could not stage" in result.start_error
    assert not root.exists()
    with pytest.raises(WrapixError, match="could not stage"):
        asyncio.run(runner.interactive(Session("plan", "prompt", log, "ralph-plan-x")))
    assert not root.exists()
