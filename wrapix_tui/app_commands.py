"""The app's keys, read back for people: the help screen, the command palette, and
:meth:`CommandsApp.key_for` (the key a hint names, after the user's ``[keymap]``).

Every group of keys is a class's ``BINDINGS`` (:mod:`wrapix_tui.keys`), so help and
palette can never disagree with what the keys do.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from wrapix_tui.screens.dashboard import DashboardScreen

if TYPE_CHECKING:
    from wrapix_core.doctor import Report


class CommandsApp(App[None]):
    """The base of :class:`~wrapix_tui.app.WrapixApp`: help, palette, key hints."""

    keymap: dict[str, str]
    doctor_report: Report | None

    def binding_groups(self, *, dashboard_only: bool = False) -> list[tuple[str, type]]:
        from wrapix_tui.widgets.builder import BuilderPane
        from wrapix_tui.widgets.inbox import InboxPane
        from wrapix_tui.widgets.ralph import RalphPane
        from wrapix_tui.widgets.sandboxes import SandboxesPane

        groups: list[tuple[str, type]] = [
            ("app", type(self)), ("panes", DashboardScreen), ("sandboxes", SandboxesPane),
            ("inbox", InboxPane), ("builder", BuilderPane), ("ralph", RalphPane)]
        if not dashboard_only:
            from wrapix_tui.screens.approval import ApprovalScreen
            from wrapix_tui.screens.clarify import ClarifyScreen
            from wrapix_tui.screens.confirm import ConfirmScreen
            from wrapix_tui.screens.issue import IssueScreen
            from wrapix_tui.screens.logs import LogsScreen
            from wrapix_tui.screens.new_sandbox import NewSandboxScreen
            from wrapix_tui.screens.review import ReviewScreen
            from wrapix_tui.widgets.rowlist import RowList

            groups += [("logs", LogsScreen), ("new sandbox", NewSandboxScreen),
                       ("confirm", ConfirmScreen), ("issue", IssueScreen),
                       ("approval", ApprovalScreen), ("clarify", ClarifyScreen),
                       ("review", ReviewScreen), ("lists", RowList)]
        return groups

    def key_for(self, binding_id: str) -> str:
        from wrapix_tui import keys

        return keys.key_for(self.binding_groups(), self.keymap, binding_id)

    def action_doctor(self) -> None:
        from wrapix_tui.screens.doctor import DoctorScreen

        self.push_screen(DoctorScreen(self.doctor_report))

    def action_help(self) -> None:
        from wrapix_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.binding_groups(), self.keymap))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from wrapix_tui import keys

        dashboard = isinstance(screen, DashboardScreen)
        for command in super().get_system_commands(screen):
            if not (dashboard and command.title == "Keys"):  # ours below shows every key
                yield command
        if not dashboard:
            return
        for action in keys.actions(self.binding_groups(dashboard_only=True), self.keymap):
            if action.id in ("app.quit", "app.help"):
                continue
            owner = next(cls for group, cls in self.binding_groups(dashboard_only=True)
                         if group == action.group)
            target: Any = (self if owner is type(self) else screen if owner is DashboardScreen
                           else screen.query_one(owner))
            title = f"{action.group.capitalize()}: {action.binding.description}"
            yield SystemCommand(title, f"key {keys.display_keys(action.keys)} · id {action.id}",
                                partial(self.run_action, action.binding.action, target))
        yield SystemCommand("Keys", "show every key (id app.help)", self.action_help)
        yield SystemCommand("Doctor", "what this machine lacks for sandboxes, with the fixes "
                            "(`wrapix doctor`)", self.action_doctor)
