"""Review what ``ralph ready`` proposed: the whole breakdown in dependency order, the
selected issue's detail beside it, and the decisions of ``ralph review``: approve, edit
(in ``$EDITOR``, the app suspended meanwhile), reject (asking first when other issues
depend on it), approve all. Every decision is the core's own call
(:mod:`wrapix_core.ralph.review`); the list is re-read after each one.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from wrapix_core.errors import WrapixError
from wrapix_core.units import plural
from wrapix_tui import format as fmt
from wrapix_tui.styles import stylesheet
from wrapix_tui.widgets.rowlist import RowList
from wrapix_tui.widgets.untrusted import SafeMarkdown

if TYPE_CHECKING:
    from wrapix_core.ralph.review import ReviewItem, ReviewQueue

log = logging.getLogger("wrapix.tui.review")


class ReviewRow:
    __slots__ = ("item", "key", "number")

    def __init__(self, number: int, item: ReviewItem) -> None:
        self.key = item.issue.id
        self.number = number
        self.item = item


class ReviewList(RowList[ReviewRow]):
    def render_row(self, row: ReviewRow, width: int) -> Text:
        issue = row.item.issue
        text = Text(f"{row.number:>2}. ", style="dim")
        text.append(fmt.safe(issue.id, 40, style="bold"))
        text.append(f" P{issue.priority} ")
        if row.item.flagged:
            text.append("! ", style="bold red")
        text.append(fmt.safe(issue.title, 200))
        needs = [dep.id for dep in row.item.depends_on if dep.status != "closed"]
        if needs:
            text.append("  ⟵ ", style="dim")
            text.append(fmt.safe(", ".join(needs[:3]), 80, style="dim"))
        return text


class ReviewScreen(Screen[None]):
    CSS_PATH = stylesheet("ralph.tcss")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve", id="review.approve"),
        Binding("e", "edit", "Edit", id="review.edit"),
        Binding("r", "reject", "Reject", id="review.reject"),
        Binding("A", "approve_all", "Approve all", id="review.approve_all"),
        Binding("escape,q", "close", "Back", id="review.close"),
    ]

    def __init__(self, workspace: Path, label: str, epic: str | None) -> None:
        super().__init__(id="review-screen")
        self.workspace = workspace
        self.label = label
        self.epic = epic
        self.queue: ReviewQueue | None = None
        self.busy = False
        self.drafts: dict[str, str] = {}
        """Edits that did not validate, kept for the next try."""
        self.counts = {"approved": 0, "edited": 0, "rejected": 0}
        self.said = ""
        """The last decision, until a reload has shown it (a reload the file watcher starts
        meanwhile replaces the one the decision started)."""

    def compose(self) -> ComposeResult:
        yield Label(Text("Review · ", style="bold") + fmt.safe(self.label, 60, style="bold"),
                    id="review-title", classes="screen-title")
        with Horizontal(id="review-main"):
            yield ReviewList(id="review-list")
            with VerticalScroll(id="review-detail"):
                yield Static("", id="review-head")
                yield SafeMarkdown("", empty="*(no description)*", id="review-description")
        yield Static(Text("Reading the proposed issues…", style="dim"), id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#review-list").focus()
        self._reload()

    @property
    def rows(self) -> ReviewList:
        return self.query_one("#review-list", ReviewList)

    def _store(self) -> object:
        from wrapix_core.tasks.store import open_store

        return open_store(self.workspace)

    # -- the queue ----------------------------------------------------------------------
    @work(exclusive=True, group="review.load")
    async def _reload(self) -> None:
        from wrapix_core.ralph import review

        try:
            queue = await review.pending(self._store(), self.label, self.epic)  # type: ignore[arg-type]
        except WrapixError as exc:
            self._status(str(exc), error=True)
            return
        except Exception as exc:
            log.exception("review: reading the proposed issues failed")
            self._status(f"the proposed issues could not be read: {exc}", error=True)
            return
        self.queue = queue
        self.rows.set_rows([ReviewRow(number, item)
                            for number, item in enumerate(queue.items, start=1)])
        self._show_detail()
        said, self.said = self.said, ""
        if said:  # after the list shows the decision, never before it
            self.app.notify(fmt.safe(said, 500).plain, markup=False)
        total = len(queue.items)
        tally = ", ".join(f"{count} {what}" for what, count in self.counts.items() if count)
        head = said or (f"{plural(total, 'proposed issue')} await review"
                        if total else f"nothing awaits review for {self.label}")
        if tally:
            head += f" · this session: {tally}"
        if not total and (tally or said):
            head += f" · next: {self._key('ralph.loop')} on the board runs the loop"
        self._status(head)

    def _key(self, binding_id: str) -> str:
        key_for = getattr(self.app, "key_for", None)
        return str(key_for(binding_id)) if key_for is not None else binding_id

    def _status(self, text: str, error: bool = False) -> None:
        """``text`` names issues (untrusted ids and titles): shown escaped."""
        status = self.query_one("#review-status", Static)
        status.update(Text(fmt.safe(text, 2000).plain, style="bold red" if error else ""))

    @on(RowList.Highlighted, "#review-list")
    def _highlighted(self) -> None:
        self._show_detail()

    def current(self) -> ReviewItem | None:
        row = self.rows.current
        return row.item if row is not None else None

    def _show_detail(self) -> None:
        item = self.current()
        head = self.query_one("#review-head", Static)
        description = self.query_one("#review-description", SafeMarkdown)
        if item is None:
            head.update(Text("Nothing is proposed.", style="dim"))
            description.set_text("")
            return
        issue = item.issue
        text = Text()
        text.append(fmt.safe(issue.id, 60, style="bold"))
        text.append(f"  P{issue.priority}  ")
        text.append(fmt.safe(issue.issue_type, 20, style="dim"))
        text.append("\n")
        text.append(fmt.safe(issue.title, 300, style="bold"))
        text.append("\ndepends on  ", style="dim")
        if not item.depends_on:
            text.append("nothing", style="dim")
        for index, dep in enumerate(item.depends_on):
            if index:
                text.append(", ")
            text.append(fmt.safe(dep.id, 60))
            text.append(f" ({fmt.safe(dep.status, 20).plain})", style="dim")
        text.append("\nneeded by   ", style="dim")
        text.append(fmt.safe(", ".join(item.needed_by), 300) if item.needed_by
                    else Text("nothing", style="dim"))
        if item.flagged:
            from wrapix_core.ralph.clarify import latest_paragraph

            text.append("\n! flagged: ", style="bold red")
            text.append(fmt.safe(latest_paragraph(issue.notes), 400))
        head.update(text)
        description.set_text(issue.description)

    # -- decisions ----------------------------------------------------------------------
    def _target(self) -> ReviewItem | None:
        if self.busy:
            self.app.notify("Still recording the last decision…", markup=False)
            return None
        item = self.current()
        if item is None:
            self.app.notify("Nothing is proposed.", markup=False)
        return item

    def action_approve(self) -> None:
        item = self._target()
        if item is not None:
            self._decide("approve", item.issue.id)

    def action_approve_all(self) -> None:
        if self._target() is not None:
            self._decide("all", "")

    def action_reject(self) -> None:
        item = self._target()
        if item is None:
            return
        if not item.needed_by:
            self._decide("reject", item.issue.id)
            return
        from wrapix_tui.screens.confirm import ConfirmScreen

        many = len(item.needed_by) > 1
        lines = [f"{dep} depends on {item.issue.id}: it will be flagged to wait for "
                 "your decision" for dep in item.needed_by]

        def answered(yes: bool | None) -> None:
            if yes:
                self._decide("reject", item.issue.id)

        what = "they depend" if many else "another issue depends"
        self.app.push_screen(ConfirmScreen(f"Reject {item.issue.id}? {what.capitalize()} "
                                           "on it.", lines, "Reject", verb="reject"),
                             answered)

    @work(exclusive=True, group="review.decide")
    async def _decide(self, verb: str, issue_id: str, edit: object = None) -> None:
        from wrapix_core.ralph import review

        self.busy = True
        said = ""
        try:
            store = self._store()
            if verb == "approve":
                await review.approve(store, issue_id)  # type: ignore[arg-type]
                self.counts["approved"] += 1
                said = f"approved {issue_id}"
            elif verb == "reject":
                rejected = await review.reject(store, issue_id)  # type: ignore[arg-type]
                self.counts["rejected"] += 1
                said = f"rejected {issue_id}"
                if rejected.flagged:
                    said += f"; flagged {', '.join(rejected.flagged)}"
                if rejected.epic_closed:
                    said += f"; closed epic {rejected.epic_closed}"
            elif verb == "edit":
                await review.edit(store, issue_id, edit)  # type: ignore[arg-type]
                self.counts["edited"] += 1
                said = f"edited {issue_id}"
            else:
                done = await review.approve_all(store, self.label, epic=self.epic)  # type: ignore[arg-type]
                self.counts["approved"] += len(done)
                said = f"approved {len(done)}: {', '.join(done)}" if done else \
                    "nothing left to approve"
        except WrapixError as exc:
            self._status(str(exc), error=True)
            return
        except Exception as exc:  # a bug or an OS error: say it, keep the app (no traceback)
            log.exception("review: a %s decision failed", verb)  # (ids are untrusted)
            self._status(f"{verb} failed: {exc}", error=True)
            return
        finally:
            self.busy = False
        self.said = said
        self._reload()

    def action_edit(self) -> None:
        """Suspend the app around ``$EDITOR`` on the edit document; validate like the CLI."""
        from wrapix_core.ralph import review
        from wrapix_core.ralph.terminal import EDIT_TIMEOUT, editor_argv, run_attached

        item = self._target()
        if item is None:
            return
        issue = item.issue
        document = self.drafts.get(issue.id) or review.edit_document(issue)
        try:
            argv = editor_argv()
            with tempfile.TemporaryDirectory(prefix="wrapix-review-") as folder:
                draft = Path(folder) / f"{issue.id}.md"
                draft.write_text(document, encoding="utf-8")
                with self.app.suspend():
                    code = run_attached([*argv, str(draft)], timeout=EDIT_TIMEOUT)
                edited = draft.read_text(encoding="utf-8", errors="replace")
        except SuspendNotSupported:
            self._status("this terminal cannot be handed to an editor; use `ralph review`",
                         error=True)
            return
        except FileNotFoundError as exc:
            self._status(f"the editor could not be started: {exc}", error=True)
            return
        except (WrapixError, OSError) as exc:
            self._status(str(exc), error=True)
            return
        if code != 0:
            self._status(f"the editor exited with code {code}; nothing was changed",
                         error=True)
            return
        if edited == review.edit_document(issue):
            self.drafts.pop(issue.id, None)
            self._status(f"{issue.id} unchanged")
            return
        try:
            change = review.parse_edit_document(edited)
        except WrapixError as exc:
            self.drafts[issue.id] = edited
            self._status(f"✗ {exc} — nothing was changed; {self._key('review.edit')} edits "
                         "your draft again", error=True)
            return
        self.drafts.pop(issue.id, None)
        self._decide("edit", issue.id, change)

    def board_changed(self, board: object) -> None:
        """Issues changed on disk (another reviewer, the CLI): read the queue again."""
        if not self.busy:
            self._reload()

    def action_close(self) -> None:
        self.dismiss(None)
