"""`wrapix inbox`: list notifications and mark them read.

Text from sandboxes is untrusted: the table shows it through
:func:`wrapix_core.untrusted.display_text` (escaped, one line, truncated);
``--json`` prints it exactly as stored, JSON-escaped (ASCII only), so nothing in it
can reach the terminal raw. The sandbox column is the sandbox the daemon knows sent it;
``NAME?`` is a name the sender claimed that nothing vouches for (TCP, on macOS).
"""

from __future__ import annotations

import shutil
import sys

import click

from wrapix_core.cli.base import echo_json
from wrapix_core.notify.inbox import Entry, InboxStore
from wrapix_core.untrusted import display_text

SANDBOX_WIDTH = 24
PIPE_WIDTH = 240


def _store() -> InboxStore:
    from wrapix_core.settings import load_settings

    return InboxStore(limit=load_settings().notify.inbox_limit)


def _row(entry: Entry, width: int) -> str:
    mark = " " if entry.read else "*"
    when = entry.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    name = entry.sandbox or (f"{entry.claimed_sandbox}?" if entry.claimed_sandbox else "-")
    sandbox = display_text(name, SANDBOX_WIDTH).ljust(SANDBOX_WIDTH)
    head = f"{mark}{entry.id:>6}  {when}  {sandbox}  {entry.popup:<10}  "
    room = max(20, width - len(head))
    title = display_text(entry.title, room)
    text = title
    if entry.message and len(title) + 2 < room:
        text = f"{title}: {display_text(entry.message, room - len(title) - 2)}"
    return head + text


@click.command("inbox")
@click.option("--json", "as_json", is_flag=True, help="Print entries as JSON.")
@click.option("--unread", is_flag=True, help="Only entries not yet read.")
@click.option("--mark-read", "mark_ids", metavar="ID", type=int, multiple=True,
              help="Mark entry ID read (repeatable).")
@click.option("--all", "mark_all", is_flag=True, help="Mark every entry read.")
def inbox(as_json: bool, unread: bool, mark_ids: tuple[int, ...], mark_all: bool) -> None:
    """Notifications from sandboxes, oldest first; `*` marks unread ones.

    Every notification is kept here, whether its desktop popup was shown, suppressed
    (you were looking at the sandbox's tmux pane) or skipped; --json says why.
    """
    if mark_ids and mark_all:
        raise click.UsageError("give either --mark-read ID or --all, not both")
    if (mark_ids or mark_all) and unread:
        raise click.UsageError("--unread lists entries; it does not combine with marking")
    store = _store()
    if mark_ids or mark_all:
        changed = store.mark_all_read() if mark_all else store.mark_read(mark_ids)
        if as_json:
            echo_json({"marked_read": changed})
        else:
            click.echo(f"marked {len(changed)} "
                       f"{'entry' if len(changed) == 1 else 'entries'} read")
        return
    entries = store.load()
    shown = [entry for entry in entries if not entry.read] if unread else entries
    if as_json:
        echo_json([entry.to_record() for entry in shown])
        return
    if not shown:
        click.echo("no unread notifications" if unread else "no notifications")
        return
    # Fit a terminal; into a pipe, longer (but still bounded) lines.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else PIPE_WIDTH
    for entry in shown:
        click.echo(_row(entry, width))
    unread_count = sum(1 for entry in entries if not entry.read)
    click.echo(f"{unread_count} unread of {len(entries)}"
               + ("; mark them with --mark-read ID or --all" if unread_count else ""))

