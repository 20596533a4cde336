"""`wrapix inbox`: listing (escaped), JSON (faithful), unread, marking read."""

from __future__ import annotations

import json
import subprocess

from tests.support.cli import script
from wrapix_core.notify.inbox import InboxStore, NewEntry
from wrapix_core.notify.protocol import Notification

HOSTILE = "\x1b[2J\x1b]0;owned\x07[bold red]boom[/]\u202etxt\nsecond line"


def inbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script("wrapix"), "inbox", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def fill() -> None:
    InboxStore().append([
        NewEntry(Notification("Claude", "Waiting", sandbox="wx-app-1a2b"), "shown", "no session"),
        NewEntry(Notification(HOSTILE, HOSTILE * 1000), "suppressed", "tmux pane active"),
        NewEntry(Notification("Done", ""), "skipped", "notify-send not found"),
    ])


def test_empty_inbox() -> None:
    done = inbox()
    assert done.returncode == 0 and done.stdout == "no notifications\n"
    assert json.loads(inbox("--json").stdout) == []


def test_listing_escapes_untrusted_text_and_truncates_it() -> None:
    fill()
    done = inbox()
    assert done.returncode == 0
    out = done.stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    rows = out.splitlines()
    assert len(rows) == 4  # three entries, one per line, and the summary
    assert rows[0].startswith("*     1") and "wx-app-1a2b" in rows[0]
    assert rows[0].endswith("Claude: Waiting")
    assert "\\e[2J\\e]0;owned\\x07[bold red]boom[/]\\u202etxt\\nsecond line" in rows[1]
    assert all(len(row) <= 240 for row in rows)
    assert rows[1].endswith("…")
    assert rows[-1] == "3 unread of 3; mark them with --mark-read ID or --all"


def test_json_is_faithful() -> None:
    fill()
    entries = json.loads(inbox("--json").stdout)
    assert [e["id"] for e in entries] == [1, 2, 3]
    assert entries[1]["title"] == HOSTILE and entries[1]["message"] == HOSTILE * 1000
    assert entries[1]["popup"] == "suppressed" and entries[1]["reason"] == "tmux pane active"
    assert "\x1b" not in inbox("--json").stdout  # escaped on output, not on disk


def test_marking_read() -> None:
    fill()
    done = inbox("--mark-read", "2")
    assert (done.returncode, done.stdout) == (0, "marked 1 entry read\n")
    assert [e["id"] for e in json.loads(inbox("--unread", "--json").stdout)] == [1, 3]
    assert inbox("--unread").stdout.splitlines()[0].startswith("*     1")
    assert json.loads(inbox("--all", "--json").stdout) == {"marked_read": [1, 3]}
    assert inbox("--unread").stdout == "no unread notifications\n"


def test_bad_requests_say_what_to_do() -> None:
    fill()
    done = inbox("--mark-read", "42")
    assert done.returncode == 2
    assert done.stderr == ("wrapix: error: no inbox entry with id 42: "
                           "run `wrapix inbox` to list the ids\n")
    assert inbox("--mark-read", "1", "--all").returncode == 2
    assert inbox("--mark-read", "x").returncode == 2
    assert "Traceback" not in inbox("--mark-read", "42").stderr
