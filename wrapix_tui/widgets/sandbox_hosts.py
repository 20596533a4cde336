"""Remote hosts in the Sandboxes pane: one worker per ``[hosts.NAME]``, their rows and the
per-host health line.

Each host has a worker of its own (:mod:`wrapix_tui.host_watch`), so a dead or hanging
host is marked and retried there and never delays another host or the local rows; its
rows' CPU and memory come from a stats sampler of its own
(:class:`~wrapix_tui.widgets.sandbox_stats.StatsSampler`, that host's Podman). The
``#host-health`` line is mounted only when hosts are configured: nothing of this is on the
start-up path without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.reactive import reactive

from wrapix_core.errors import WrapixError
from wrapix_tui.widgets.sandbox_actions import SandboxActions

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import Runtime
    from wrapix_tui.core import Core
    from wrapix_tui.host_watch import HostHealth, HostHealthChanged, HostListed
    from wrapix_tui.widgets.sandbox_stats import StatsSampler


class SandboxHosts(SandboxActions):
    """The remote-host part of :class:`~wrapix_tui.widgets.sandboxes.SandboxesPane`."""

    runtime_error: reactive[WrapixError | None] = reactive[WrapixError | None](None,
                                                                               init=False)
    """Why the runtime does not answer (missing, hung), while it does not: the note."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host_runtimes: dict[str, Runtime] = {}
        """Each remote host's runtime (``[hosts.NAME]``), for the rows' actions."""
        self.host_health: dict[str, HostHealth] = {}
        self.host_stats: dict[str, StatsSampler] = {}
        """Each remote host's stats sampler (its rows' CPU and memory)."""
        self.health_text = ""
        """The per-host health line as drawn (``#host-health``, shown with hosts only)."""

    def _watch_hosts(self, core: Core) -> None:
        """One worker per host (see :mod:`wrapix_tui.host_watch`): a dead or hanging
        host is marked and retried in its own worker, never delaying another."""
        from textual.widgets import Static

        from wrapix_core.hosts.fleet import host_runtime
        from wrapix_core.hosts.target import hosts
        from wrapix_tui.host_watch import HostWatcher
        from wrapix_tui.widgets.sandbox_stats import StatsSampler

        self.mount(Static("hosts: connecting…", id="host-health", markup=False),
                   before=self.table)
        for found in hosts(core.settings):
            runtime = host_runtime(core.settings, found)
            self.host_runtimes[found.name] = runtime
            watcher = HostWatcher(found, runtime, self.post_message)
            self.run_worker(watcher.run(), group=f"hosts.{found.name}", exit_on_error=False,
                            name=f"host {found.name}")
            sampler = StatsSampler(self, found.name, runtime, found.timeout)  # type: ignore[arg-type]
            self.host_stats[found.name] = sampler
            sampler.schedule()
        self.wrapix_app.woke_signal.subscribe(self, lambda _: self._wake_host_stats())

    def _wake_host_stats(self) -> None:
        for sampler in self.host_stats.values():
            sampler.wake()

    def on_host_listed(self, message: HostListed) -> None:
        self.state.apply_listing(message.containers, host=message.host)
        self.render_rows()

    def on_host_health_changed(self, message: HostHealthChanged) -> None:
        import time

        from textual.widgets import Static

        from wrapix_tui.host_watch import health_line

        health = message.health
        self.host_health[health.status.name] = health
        if not health.status.reachable and self.state.host_unreachable(health.status.name):
            self.render_rows()
        line = health_line(None if self.runtime_error is None else str(self.runtime_error),
                           list(self.host_health.values()), time.monotonic())
        if line == self.health_text:
            return  # drawn only when it changes
        self.health_text = line
        for bar in self.query("#host-health").results(Static):
            bar.update(line)
            bar.set_class(any(not h.status.reachable or h.status.error
                              for h in self.host_health.values()), "-error")
