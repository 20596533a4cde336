"""Answer an agent's question (an issue labelled ``ralph:clarify``).

The question is shown as markdown from untrusted text. When it uses the options format
(``## Options — …`` then ``### Option N — title``) the options are a choice list; the
answer is the chosen option plus anything typed, or only what is typed. It is recorded
with :func:`wrapix_core.ralph.clarify.answer`, the call behind ``ralph msg -a``;
ctrl+d dismisses the question instead (``ralph msg -d``).
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from wrapix_core.errors import WrapixError
from wrapix_core.ralph import clarify
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.untrusted import SafeMarkdown

if TYPE_CHECKING:
    from wrapix_core.tasks.model import Issue

log = logging.getLogger("wrapix.tui.clarify")


class ClarifyScreen(ModalScreen[str | None]):
    CSS_PATH: ClassVar[list[str | PurePath]] = [stylesheet("modals.tcss"), stylesheet("ralph.tcss")]
    # Textual declares breakpoints as instance variables (no ClassVar allowed)
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Answer", id="clarify.send"),
        Binding("ctrl+d", "dismiss_question", "Dismiss question", id="clarify.dismiss"),
        Binding("escape", "cancel", "Cancel", id="clarify.cancel"),
    ]

    def __init__(self, workspace: Path, issue: Issue) -> None:
        super().__init__(classes="modal")
        self.workspace = workspace
        self.issue = issue
        self.question = clarify.question_text(issue.notes) or issue.title
        self.heading, self.options = clarify.question_options(self.question)
        self.busy = False

    def compose(self) -> ComposeResult:
        issue = self.issue
        with Vertical(id="dialog", classes="clarify"):
            title = Text("Question · ", style="bold")
            title.append(fmt.safe(issue.id, 60, style="bold"))
            title.append("  ")
            title.append(fmt.safe(issue.title, 200))
            yield Label(title, classes="title")
            with VerticalScroll(id="clarify-question"):
                yield SafeMarkdown(self.question, id="clarify-text")
            if self.options:
                heading = Text("Choose an option", style="bold")
                if self.heading:
                    heading.append(" — ")
                    heading.append(fmt.safe(self.heading, 120))
                yield Label(heading)
                yield OptionList(*[Option(self._option_text(option), id=str(option.number))
                                   for option in self.options],
                                 Option(Text("Something else: only what I type below",
                                             style="italic"), id="other"),
                                 id="clarify-options")
                yield Label("Anything to add (optional)")
            else:
                yield Label("Your answer")
            yield Input(placeholder="type the answer — ctrl+s sends it", id="clarify-answer")
            yield Static("", id="status")
            yield Label(Text("^s answers · ^d dismisses the question · esc cancels",
                             style="dim"), id="clarify-keys")
            with Horizontal(id="buttons"):
                yield Button("Answer (^s)", id="send", variant="primary")
                yield Button("Dismiss question (^d)", id="dismiss")
                yield Button("Cancel (esc)", id="cancel")

    @staticmethod
    def _option_text(option: clarify.QuestionOption) -> Text:
        text = Text(f"{option.number}. ", style="bold")
        text.append(fmt.safe(option.title, 120, style="bold"))
        body = " ".join(option.body.split())
        if body:
            text.append("  ")
            text.append(fmt.safe(body, 160, style="dim"))
        return text

    def on_mount(self) -> None:
        if self.options:
            options = self.query_one("#clarify-options", OptionList)
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#clarify-answer", Input).focus()

    def answer_text(self) -> str:
        typed = self.query_one("#clarify-answer", Input).value.strip()
        if not self.options:
            return typed
        index = self.query_one("#clarify-options", OptionList).highlighted
        # the last entry ("something else") chooses no option: the typed text alone
        chosen = self.options[index].answer if index is not None \
            and index < len(self.options) else ""
        return f"{chosen}. {typed}" if chosen and typed else (chosen or typed)

    def _status(self, text: str, error: bool = False) -> None:
        """``text`` may quote the store's errors (untrusted ids): shown escaped."""
        status = self.query_one("#status", Static)
        status.update(Text(fmt.plain(text, 2000)))
        status.set_class(error, "error")

    @on(Input.Submitted, "#clarify-answer")
    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(OptionList.OptionSelected, "#clarify-options")
    def _option_chosen(self) -> None:
        self.query_one("#clarify-answer", Input).focus()

    @on(Button.Pressed, "#dismiss")
    def _dismiss_pressed(self) -> None:
        self.action_dismiss_question()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_send(self) -> None:
        if self.busy:
            return
        text = self.answer_text()
        if not text:
            self._status("Type an answer (or choose an option) first.", True)
            return
        self.busy = True  # before the worker starts: a second key must not start another
        self._record(text)

    def action_dismiss_question(self) -> None:
        if not self.busy:
            self.busy = True
            self._record(None)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    @work(group="clarify.answer")  # not exclusive: a write is never cancelled half-way
    async def _record(self, text: str | None) -> None:
        from wrapix_core.ralph import clarify
        from wrapix_core.tasks.store import open_store

        self._status("Recording…")
        try:
            store = open_store(self.workspace)
            if text is None:
                updated = await clarify.dismiss(store, self.issue.id)
                said = f"Dismissed the question of {self.issue.id}; it is open again."
            else:
                updated = await clarify.answer(store, self.issue.id, text)
                said = f"Answered {self.issue.id}; it is open again."
        except WrapixError as exc:
            self.busy = False
            self._status(str(exc), True)
            return
        except Exception as exc:  # a bug or an OS error: say it, keep the app
            log.exception("recording a clarify answer failed")  # (ids are untrusted)
            self.busy = False
            self._status(f"the answer could not be recorded: {exc!r}", True)
            return
        self.app.notify(fmt.plain(f"{said} Next: {clarify.resume_hint(updated)}", 500))
        self.dismiss(text or "")
