"""Stats of the sandbox rows: the one sampled thing in the pane.

Visible running rows only, at most every :data:`STATS_INTERVAL` seconds (every
:data:`IDLE_STATS_INTERVAL` while nobody is at the keyboard; the first key brings the
active pace back at once, by the app's ``woke_signal``), skipped while the app is
suspended, unfocused, behind a modal or the pane is hidden. The sampler reschedules
itself only after it finishes.

This machine's rows have one sampler; each remote host (``[hosts.NAME]``) has its own, in
its own worker group, asking that host's Podman within the host's timeout: a slow or
hanging host delays only its own rows' figures.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from wrapix_core.errors import WrapixError
from wrapix_tui.messages import StatsSampled

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import ContainerStats, Runtime
    from wrapix_tui.widgets.sandboxes import SandboxesPane

log = logging.getLogger("wrapix.tui.sandboxes")

STATS_INTERVAL = 2.0
IDLE_STATS_INTERVAL = 10.0
"""Seconds between stats samples while idle (nobody is at the keyboard: the numbers
still move, just less often)."""
REMOTE_IDLE_STATS_INTERVAL = 30.0
"""The same for a remote host's rows: each of its rounds starts processes and crosses
SSH, which an idle TUI pays for (benchmark P8); any key brings the active pace back."""
GROUP = "sandboxes.stats"


class StatsSampler:
    def __init__(self, pane: SandboxesPane, host: str | None = None,
                 runtime: Runtime | None = None, timeout: float | None = None) -> None:
        """This machine's rows, or (``host``) that host's rows through its ``runtime``,
        each round bounded by ``timeout``."""
        self.pane = pane
        self.host = host
        self.runtime = runtime
        self.timeout = timeout
        self.group = GROUP if host is None else f"{GROUP}.{host}"
        self._timer: Any = None

    def schedule(self) -> None:
        pane = self.pane
        idle = IDLE_STATS_INTERVAL if self.host is None else REMOTE_IDLE_STATS_INTERVAL
        interval = idle if pane.wrapix_app.idle() else STATS_INTERVAL
        self._timer = pane.set_timer(interval, self._start)

    def wake(self) -> None:
        """Input after an idle spell: the next sample comes at the active pace."""
        timer = self._timer
        if timer is not None and not any(worker.group == self.group and worker.is_running
                                         for worker in self.pane.workers):
            timer.stop()
            self._timer = self.pane.set_timer(0.2, self._start)

    def paused(self) -> bool:
        """Why sample what nobody can see?"""
        pane = self.pane
        app = pane.wrapix_app
        return (app.suspended or not app.app_focus or app.screen is not pane.screen
                or not pane.display
                or pane.screen.maximized not in (None, pane))

    def _start(self) -> None:
        # The function, not a coroutine: one made for a worker that never starts (the
        # app closing) would be left unawaited.
        self.pane.run_worker(self._sample, group=self.group,  # type: ignore[arg-type]
                             exclusive=True)

    def names(self) -> list[str]:
        """The visible rows worth sampling that are this sampler's (row keys)."""
        pane = self.pane
        prefix = None if self.host is None else f"{self.host}/"
        return [name for name in pane.table.visible_names() if pane.state.sampled(name)
                and (name.startswith(prefix) if prefix else "/" not in name)]

    async def _ask(self, names: list[str]) -> list[ContainerStats]:
        assert self.pane.core is not None
        if self.host is None or self.runtime is None:
            return await self.pane.core.runtime.stats(names)
        import asyncio
        from dataclasses import replace

        prefix = f"{self.host}/"
        try:
            async with asyncio.timeout(self.timeout):
                found = await self.runtime.stats([name[len(prefix):] for name in names])
        except TimeoutError:
            log.debug("stats of host %s: no answer within %gs", self.host, self.timeout)
            return []
        return [replace(item, name=prefix + item.name) for item in found]

    async def _sample(self) -> None:
        pane = self.pane
        try:
            if pane.core is None or self.paused():
                return
            names = self.names()
            if not names:
                return
            try:
                stats = await self._ask(names)
            except WrapixError as exc:
                log.debug("stats failed: %s", exc)  # cells keep "-"; not worth a toast every 2 s
                return
            if stats:  # nothing new (a host that did not answer): nothing to redraw
                pane.post_message(StatsSampled(stats))
        except Exception:  # logged (a toast); the sampler goes on
            log.exception("sampling stats failed")
        finally:
            self.schedule()
