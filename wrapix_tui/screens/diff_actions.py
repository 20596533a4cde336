"""What the diff screen asks before landing or dropping a session's work, and how it shows
the outcome: merge (which way), discard (are you sure), request changes (the comment).

The work itself is the sessions core's (``DiffTarget.merge/discard/instruct``); a refusal
is a :class:`~wrapix_core.errors.WrapixError` whose message lists the files and whose
hint says what to do, shown whole in a modal, never as a traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from wrapix_core.errors import WrapixError
from wrapix_tui import format as fmt
from wrapix_tui.screens.confirm import ConfirmScreen
from wrapix_tui.styles import stylesheet

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from wrapix_tui.screens.diff import DiffScreen

log = logging.getLogger("wrapix.tui.diff")

STRATEGIES = (
    ("merge", "merge — a merge commit on the base (history kept)"),
    ("squash", "squash — one new commit on the base with all the changes"),
    ("rebase", "rebase — the session's commits replayed on the base"),
    ("ff-only", "ff-only — only if the base has not moved (no new commit)"),
)


class MergeStrategyScreen(ModalScreen[str | None]):
    """Which way to merge; dismissed with the strategy, or None."""

    CSS_PATH = stylesheet("modals.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="merge.cancel"),
    ]

    def __init__(self, name: str, base: str) -> None:
        super().__init__(classes="modal")
        self.session = name
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Merge ") + fmt.safe(self.session, 63, "bold")
                        + Text(" into its base ") + fmt.safe(self.base, 60)
                        + Text(" in your checkout — how?"), id="question")
            yield OptionList(*(Option(label, id=key) for key, label in STRATEGIES),
                             id="merge-strategies")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)


class CommentScreen(ModalScreen[tuple[str, bool] | None]):
    """The comment sent to the agent; dismissed with (text, about the file and line),
    or None. With ``about`` (``path:line``) a checkbox, on by default, says whether the
    comment is about it."""

    CSS_PATH = stylesheet("modals.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="comment.cancel"),
    ]

    def __init__(self, name: str, about: str | None) -> None:
        super().__init__(classes="modal")
        self.session = name
        self.about = about

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text("Request changes from ") + fmt.safe(self.session, 40, "bold"),
                        id="question")
            yield Static(Text("Typed into its agent as its next instruction.", style="dim"))
            if self.about:
                yield Checkbox(Text("about ") + fmt.safe(self.about, 200), True,
                               id="comment-about")
            yield Input(placeholder="what should change (enter sends, esc cancels)",
                        id="comment-text")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        about = self.query("#comment-about")
        self.dismiss((text, bool(about and self.about and about.first(Checkbox).value)))

    def action_close(self) -> None:
        self.dismiss(None)


class OutcomeScreen(ModalScreen[None]):
    """A refusal or a failure, whole: what happened, the files, what to do."""

    CSS_PATH = stylesheet("modals.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="outcome.close"),
    ]

    def __init__(self, title: str, error: WrapixError) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Label(fmt.safe(self.title_text, 120), id="question")
            with VerticalScroll(id="targets"):
                for line in self.error.message.splitlines() or [""]:
                    yield Static(fmt.safe(line, 300))
            if self.error.hint:
                yield Static(Text("What to do: ", style="bold") + fmt.safe(self.error.hint, 600),
                             id="outcome-hint")
            yield Static(Text("enter or esc closes", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)


def _run(screen: DiffScreen, what: str, call: Callable[[], Awaitable[str]], *,
         closes: bool) -> None:
    """Run ``call`` in a worker: its line is shown (and closes the screen when ``closes``),
    a WrapixError opens :class:`OutcomeScreen`."""

    async def job() -> None:
        screen.busy = f"{what}…"
        screen._update_status()
        try:
            done = await call()
        except WrapixError as exc:
            screen.busy = None
            screen._update_status()
            screen.app.push_screen(OutcomeScreen(f"{what.capitalize()}: not done", exc))
            return
        except Exception as exc:  # the core's bug must not take the screen down
            log.exception("%s failed", what)
            screen.busy = None
            screen._update_status()
            screen.app.push_screen(OutcomeScreen(f"{what.capitalize()} failed",
                                                 WrapixError(repr(exc))))
            return
        screen.busy = None
        screen.app.notify(done, markup=False, timeout=8)
        if closes:
            screen.dismiss(done)
        else:
            screen._update_status()

    screen.run_worker(job(), group="diff.action", exclusive=True)


def _unavailable(screen: DiffScreen, what: str) -> None:
    screen.app.notify(f"{screen.target.name} is not a session: nothing to {what}",
                      severity="warning", markup=False)


def run_merge(screen: DiffScreen) -> None:
    merge = screen.target.merge
    if merge is None:
        _unavailable(screen, "merge")
        return

    def chosen(strategy: str | None) -> None:
        if strategy is not None and merge is not None:
            _run(screen, f"merging ({strategy})", lambda: merge(strategy), closes=True)

    target = screen.target
    screen.app.push_screen(MergeStrategyScreen(target.name, target.base_label or target.base[:12]),
                           chosen)


def run_discard(screen: DiffScreen) -> None:
    discard = screen.target.discard
    if discard is None:
        _unavailable(screen, "discard")
        return
    target = screen.target

    def answered(yes: bool | None) -> None:
        if yes and discard is not None:
            _run(screen, "discarding", discard, closes=True)

    async def ask() -> None:
        lines = ["stops its sandbox", f"removes its workspace {target.repo}",
                 f"deletes its branch {target.branch or '(the session branch)'}"]
        if target.lost is not None:
            try:
                lost = await target.lost()
            except WrapixError as exc:
                lost = [f"(what is not merged could not be found out: {exc})"]
            lines += [f"THROWS AWAY {item}" for item in lost] or ["nothing unmerged is lost"]
        screen.app.push_screen(ConfirmScreen(f"Discard session {target.name}?", lines,
                                             "Discard", verb="discard"), answered)

    screen.run_worker(ask(), group="diff.action", exclusive=True)


def run_comment(screen: DiffScreen) -> None:
    instruct = screen.target.instruct
    if instruct is None:
        _unavailable(screen, "instruct")
        return
    view = screen.view
    row = view.current
    path = view.file.path if view.file is not None else None
    line = None if row is None else (row.new if row.new is not None else row.old)
    about = None if path is None else path + (f":{line}" if line is not None else "")

    def written(answer: tuple[str, bool] | None) -> None:
        if answer and instruct is not None:
            text, on_line = answer
            _run(screen, "sending the comment",
                 lambda: instruct(text, path if on_line else None,
                                  line if on_line else None), closes=False)

    screen.app.push_screen(CommentScreen(screen.target.name, about), written)
