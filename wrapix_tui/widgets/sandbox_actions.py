"""What the sandbox pane's keys do to sandboxes: new, attach, shell, logs, diff (a
session's work), egress, stop, restart, remove (asked first; several at once when rows
are marked), mark.

:class:`SandboxActions` is the pane's base: the live data, the view and the table are
:class:`~wrapix_tui.widgets.sandboxes.SandboxesPane`'s, which provides the hooks below.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from textual import work

from wrapix_core.errors import WrapixError
from wrapix_tui.messages import Problem
from wrapix_tui.widgets.pane import Pane
from wrapix_tui.widgets.sandbox_table import SandboxTable

if TYPE_CHECKING:
    from wrapix_core.sandbox.runtime import Runtime
    from wrapix_tui.sandbox_state import SandboxState

log = logging.getLogger("wrapix.tui.sandboxes")

VERBS = {
    "stop": ("Stop", "stopping", "Stopped"),
    "restart": ("Restart", "restarting", "Restarted"),
    "remove": ("Remove", "removing", "Removed"),
}
"""Per action: its button, what a row shows meanwhile, and what is said when it is done."""


class SandboxActions(Pane):
    state: SandboxState
    host_runtimes: dict[str, Runtime]

    @property
    def table(self) -> SandboxTable:
        return self.query_one(SandboxTable)

    # -- hooks (the pane's) -------------------------------------------------------------

    def render_rows(self) -> None:
        raise NotImplementedError

    def request_refresh(self, delay: float = 0.1) -> None:
        raise NotImplementedError

    def select_when_shown(self, name: str) -> None:
        raise NotImplementedError

    # -- targets ------------------------------------------------------------------------

    def current(self) -> str | None:
        return self.table.current()

    def targets(self) -> list[str]:
        """Marked rows if any, else the row under the cursor."""
        marked = [name for name in self.table.names() if name in self.state.marked]
        if marked:
            return marked
        current = self.current()
        return [current] if current else []

    def _require(self) -> list[str]:
        names = self.targets()
        if not names:
            self.app.notify("No sandbox selected.", severity="warning")
        return names

    def _one(self) -> str | None:
        """The sandbox a one-sandbox action is for: under the cursor, else the first target."""
        names = self._require()
        return (self.current() or names[0]) if names else None

    def _running_target(self) -> str | None:
        names = self._require()
        if not names:
            return None
        name = names[0] if not self.state.marked else (self.current() or names[0])
        if not self.state.running(name):
            self.app.notify(f"{name} is not running; restart it first "
                            f"({self.wrapix_app.key_for('sandbox.restart')}).",
                            severity="warning")
            return None
        return name

    def route(self, key: str) -> tuple[Runtime, str]:
        """The runtime a row's sandbox runs on, and its name there (``HOST/NAME`` rows are
        on remote hosts)."""
        assert self.core is not None
        host, slash, name = key.partition("/")
        if slash and host in self.host_runtimes:
            return self.host_runtimes[host], name
        return self.core.runtime, key

    # -- new, attach, shell, logs -------------------------------------------------------

    def action_new(self) -> None:
        if not self.ready():
            return
        from wrapix_tui.screens.new_sandbox import NewSandboxScreen

        assert self.core is not None

        def launched(name: str | None) -> None:
            if name:
                self.app.notify(f"Started {name}.")
                self.select_when_shown(name)
                self.request_refresh(0)

        self.app.push_screen(NewSandboxScreen(self.core, self.state.running_projects()),
                             launched)

    def action_attach(self) -> None:
        if not self.ready() or (name := self._running_target()) is None:
            return
        assert self.core is not None
        keys = self.core.settings.sandbox.detach_keys
        runtime, bare = self.route(name)
        argv = runtime.attach_argv(bare, keys)
        self.wrapix_app.hand_over(argv, f"wrapix: attached to {name}; detach with {keys} "
                                        "(the agent keeps running)",
                                  done=f"Detached from {name}.", redraw=True,
                                  running=runtime.running_argv(bare))
        self.request_refresh(0)

    def action_shell(self) -> None:
        if not self.ready() or (name := self._running_target()) is None:
            return
        assert self.core is not None
        runtime, bare = self.route(name)
        argv = runtime.shell_argv(bare)
        self.wrapix_app.hand_over(argv, f"wrapix: shell in {name}; `exit` returns to wrapix-tui",
                                  done=f"Left the shell in {name}.",
                                  running=runtime.running_argv(bare))
        self.request_refresh(0)

    def action_logs(self) -> None:
        if not self.ready() or (name := self._one()) is None:
            return
        from wrapix_tui.screens.logs import LogsScreen

        assert self.core is not None
        self.app.push_screen(LogsScreen(*self.route(name)))

    def action_diff(self) -> None:
        """The work of the session under the cursor, file by file (merge, discard or ask
        for changes from there)."""
        if (name := self._one()) is None:
            return
        from wrapix_tui.session_review import session_of, target_for

        info = self.state.containers.get(name)
        session = session_of(info) if info is not None else None
        if session is None:
            self.app.notify(f"{name} is not a session (it works in its project's checkout): "
                            "no branch to review", severity="warning", markup=False)
            return
        from wrapix_tui.screens.diff import DiffScreen

        self.app.push_screen(DiffScreen(target_for(session)),
                             lambda done: self.request_refresh(0) if done else None)

    # -- egress -------------------------------------------------------------------------

    def action_egress(self) -> None:
        """The hosts the selected allowlist sandbox was refused; allow one for it now, or
        in its project's wrapix.toml (which then needs trusting again)."""
        if (name := self._one()) is None:
            return
        info = self.state.containers.get(name)
        if info is None or not self.state.allowlisted(name):
            self.app.notify(f"{name} is not an allowlist sandbox.", severity="warning")
            return
        from wrapix_core.egress import log as denial_log
        from wrapix_tui.screens.egress import EgressScreen

        hosts = list(dict.fromkeys(str(record["host"]) for record in
                                   reversed(denial_log.read(name))))
        if not hosts:
            self.app.notify(f"{name} has been refused nothing.")
            return

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._allow(name, info.workspace, *answer)

        self.app.push_screen(EgressScreen(name, hosts), chosen)

    def _allow(self, name: str, workspace: str, host: str, where: str) -> None:
        from pathlib import Path

        from wrapix_core.egress import allow

        try:
            if where == "project":
                path = allow.allow_in_project(Path(workspace), host)
                self.app.notify(f"Added {host} to {path}; trust it again (`wrapix trust`) "
                                "before the next launch.")
            else:
                allow.allow_now(name, host)
                self.app.notify(f"{name} may reach {host} now.")
        except WrapixError as exc:
            self.app.notify(str(exc), severity="error")
        self.render_rows()

    # -- stop, restart, remove ----------------------------------------------------------

    def action_stop(self) -> None:
        self._confirm("stop")

    def action_restart(self) -> None:
        self._confirm("restart")

    def action_remove(self) -> None:
        self._confirm("remove")

    def _confirm(self, verb: str) -> None:
        if not self.ready():
            return
        names = self._require()
        if not names:
            return
        from wrapix_tui.screens.confirm import ConfirmScreen

        title = VERBS[verb][0]
        lines = []
        for name in names:
            info = self.state.containers.get(name)
            state = info.state if info else "unknown"
            extra = ""
            if verb == "remove" and info is not None and info.running:
                extra = " — running: it is stopped first"
            elif verb == "stop" and info is not None and not info.running:
                extra = " — not running"
            lines.append(f"{name} ({state}){extra}")
        what = f"{len(names)} sandboxes" if len(names) > 1 else names[0]

        def answered(yes: bool | None) -> None:
            if yes:
                self._operate(verb, names)

        self.app.push_screen(ConfirmScreen(f"{title} {what}?", lines, title, verb=verb),
                             answered)

    @work(group="sandboxes.ops")
    async def _operate(self, verb: str, names: list[str]) -> None:
        assert self.core is not None
        _title, progressive, past = VERBS[verb]
        self.state.begin(names, progressive)
        self.render_rows()

        async def one(key: str) -> None:
            runtime, name = self.route(key)
            if verb == "stop":
                await runtime.stop(name)
            elif verb == "restart":
                await runtime.restart(name)
            else:
                await runtime.remove(name, force=self.state.running(key))

        results = await asyncio.gather(*(one(name) for name in names), return_exceptions=True)
        for name, result in zip(names, results, strict=True):
            self.state.finish(name)
            if isinstance(result, WrapixError):
                self.post_message(Problem(result))
            elif isinstance(result, BaseException):
                log.error("%s %s failed", verb, name, exc_info=result)
                self.post_message(Problem(f"{verb} {name} failed: {result!r}"))
        succeeded = [name for name, result in zip(names, results, strict=True)
                     if not isinstance(result, BaseException)]
        if succeeded:
            self.app.notify(f"{past} {', '.join(succeeded)}.")
        self.render_rows()
        self.request_refresh(0)

    # -- marks --------------------------------------------------------------------------

    def action_mark(self) -> None:
        name = self.current()
        if name is None:
            return
        self.state.toggle_mark(name)
        self.render_rows()
        self.table.move_down()
