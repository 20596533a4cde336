"""The two lists of the Ralph board: specs with criteria progress, and the selected spec's
issues grouped by status. Each renders only the rows on screen
(:class:`~wrapix_tui.widgets.rowlist.RowList`); every string is shown as inert text."""

from __future__ import annotations

from rich.text import Text

from wrapix_tui import board_model as model
from wrapix_tui import format as fmt
from wrapix_tui.widgets.ralph_steps import MARKS
from wrapix_tui.widgets.rowlist import RowList

GROUP_STYLE = {"ready": "bold green", "in_progress": "bold yellow", "blocked": "bold red",
               "clarify": "bold magenta", "proposed": "bold cyan", "other": "bold",
               "closed": "bold dim"}
PRIORITY_STYLE = {0: "bold red", 1: "bold yellow", 2: "", 3: "dim", 4: "dim"}


def progress_bar(done: int, total: int, width: int = 8) -> Text:
    if total <= 0:
        return Text("·" * width, style="dim")
    filled = round(width * done / total)
    bar = Text("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    return bar


class SpecList(RowList[model.SpecRow]):
    def render_row(self, row: model.SpecRow, width: int) -> Text:
        text = Text()
        card = row.card
        if card is None:
            text.append("all issues".ljust(18), style="bold")
            text.append(" " * 14)
        else:
            name = fmt.safe(card.name, 60, style="" if card.present else "dim strike")
            name.truncate(18, overflow="ellipsis", pad=True)
            text.append(name)
            text.append(" ")
            text.append(progress_bar(card.criteria_done, card.criteria_total))
            text.append(f" {card.criteria_done}/{card.criteria_total}".ljust(6))
        text.append(f"{row.total:>5} ")
        text.append(f"{row.ready:>3} ready", style="green" if row.ready else "dim")
        if row.clarify:
            text.append(f"  ?{row.clarify}", style="bold magenta")
        if row.proposed:
            text.append(f"  ◇{row.proposed}", style="bold cyan")
        if card is not None:
            if card.state:
                text.append(f"  {card.state}", style="bold yellow" if card.state == "WIP"
                            else "bold cyan")
            if card.epic:
                text.append("  ")
                text.append(fmt.safe(card.epic, 40, style="dim"))
            ann = card.annotations
            if ann.verify or ann.judge:
                text.append(f"  v{ann.verify} j{ann.judge}", style="dim")
            if card.problems:
                text.append("  !", style="bold red")
        return text


class IssueList(RowList[model.Row]):
    def render_row(self, row: model.Row, width: int) -> Text:
        if isinstance(row, model.GroupRow):
            mark = "▾" if row.expanded else "▸"
            text = Text(f"{mark} ", style=GROUP_STYLE.get(row.group, "bold"))
            text.append(row.label.upper() if row.group != "closed" else "closed",
                        style=GROUP_STYLE.get(row.group, "bold"))
            text.append(f" ({row.count})", style="dim")
            if not row.expanded:
                text.append("  enter shows them", style="dim")
            return text
        issue = row.issue
        text = Text("  ")
        if row.step:  # a parallel loop's step works it (ralph_steps.MARKS)
            mark, style = MARKS.get(row.step, ("·", "dim"))
            text = Text(f"{mark} ", style=style)
        text.append(f"{row.position:>2}. " if row.position else "    ", style="green")
        text.append(fmt.safe(issue.id, 40, style="bold" if row.group != "closed" else "dim"))
        text.append(f" P{issue.priority}", style=PRIORITY_STYLE.get(issue.priority, ""))
        text.append(" ")
        text.append(fmt.safe(issue.issue_type, 10, style="dim"))
        text.append(" ")
        if "ralph:proposed" in issue.labels:
            text.append("◇ ", style="bold cyan")
        if row.blockers:  # before the title: it is what the group is about
            text.append("⟵ ", style="red")
            for index, blocker in enumerate(row.blockers[:3]):
                if index:
                    text.append(", ", style="red")
                if blocker.kind == "parent":
                    text.append("parent ", style="red")
                text.append(fmt.safe(blocker.id, 40, style="red"))
                text.append(" (", style="dim")
                text.append(fmt.safe(blocker.status, 20, style="dim"))
                text.append(")", style="dim")
            text.append("  ")
        text.append(fmt.safe(issue.title, 200, style="dim" if row.group == "closed" else ""))
        return text
