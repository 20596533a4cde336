"""Typing an instruction into a running agent (request changes from a review).

A session's agent runs inside tmux in its sandbox (the entrypoint's session block:
server ``-L wrapix``, session ``agent``). The text goes in through ``podman exec``: on
standard input into a tmux paste buffer (never argv, so its size and content do not
matter), pasted into the agent's pane as a bracketed paste when the agent asked for
those (one message, whatever newlines it holds), then Enter. Control characters other
than newline and tab are dropped first: a comment is words for the agent, never keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from wrapix_core import proc
from wrapix_core.errors import WrapixError

TMUX_SOCKET = "wrapix"
"""The tmux server (``tmux -L wrapix``) the entrypoint starts the agent in."""
TMUX_SESSION = "agent"
TIMEOUT = 15.0
MAX_CHARS = 64 * 1024
_TMUX = f"tmux -L {TMUX_SOCKET}"
_SCRIPT = (f"{_TMUX} load-buffer -b wrapix-say - && "
           f"{_TMUX} paste-buffer -p -d -r -b wrapix-say -t {TMUX_SESSION} && "
           f"{_TMUX} send-keys -t {TMUX_SESSION} Enter")


class InstructionFailed(WrapixError):
    """The instruction could not be typed into the agent."""

    exit_code = 1


def clean(text: str) -> str:
    """``text`` without control characters (newline and tab kept), trailing space cut."""
    kept = "".join(char for char in text
                   if char in "\n\t" or (char.isprintable() and char not in "\x7f"))
    return kept.strip()


def review_comment(text: str, *, path: str | None = None, line: int | None = None) -> str:
    """The instruction a review comment becomes (optionally on a file and line)."""
    where = ""
    if path:
        where = f" on {path}" + (f" line {line}" if line is not None else "")
    return f"Review comment{where}: {clean(text)}"


def send_instruction(container: str, text: str, *, podman: str = "podman",
                     options: Sequence[str] = (), timeout: float = TIMEOUT) -> str:
    """Type ``text`` into the agent of sandbox ``container`` as its next instruction and
    press Enter; returns the text sent. :class:`InstructionFailed` says why not."""
    message = clean(text)
    if not message:
        raise InstructionFailed("the instruction is empty", "write what the agent should do")
    if len(message) > MAX_CHARS:
        raise InstructionFailed(f"the instruction is {len(message)} characters long",
                                f"keep it under {MAX_CHARS}")
    try:
        done = proc.run_sync([podman, *options, "exec", "-i", container, "sh", "-c", _SCRIPT],
                             input=message, timeout=timeout, check=False)
    except proc.ProcError as error:
        raise InstructionFailed(f"cannot reach sandbox {container}: {error}") from None
    if done.returncode != 0:
        said = proc.last_lines(done.stderr, 2)
        if "no such container" in said.lower() or "not running" in said.lower():
            raise InstructionFailed(f"sandbox {container} is not running",
                                    "start the session again with `wrapix run --session`")
        raise InstructionFailed(
            f"no agent session to type into in sandbox {container} ({said or 'tmux failed'})",
            "its agent does not run inside tmux (a sandbox started with --direct, an image "
            "without tmux, or one from before sessions): attach and type it yourself")
    return message
