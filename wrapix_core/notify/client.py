"""`wrapix-notify TITLE [MESSAGE] [SOUND]`: tell the host daemon that the agent waits.

Runs on every agent stop, inside containers: it must start fast, never hang the hook
and never fail it. So: standard library only (no click, pydantic, platformdirs, not even
``wrapix_core.paths``), one connection with a one-second budget in all, and exit 0
silently when no daemon listens (``WRAPIX_NOTIFY_VERBOSE=1`` says why on stderr).

Where it sends, first match wins:

- ``WRAPIX_NOTIFY_TCP=1``: TCP to the default gateway (from ``/proc/net/route``), port
  5959 — inside Apple containers; ``WRAPIX_NOTIFY_TCP=HOST:PORT``: there;
- ``WRAPIX_NOTIFY__SOCKET``: that Unix socket (the ``notify.socket`` setting's variable);
- ``/run/wrapix/notify.sock`` when it exists (inside a sandbox: its own socket, the only
  thing in its own socket directory, see :mod:`wrapix_core.notify.socketdirs`);
- the host's socket, found as :func:`wrapix_core.paths.notify_socket` finds it.

It adds ``session_id`` from ``WRAPIX_SESSION_ID`` and ``sandbox`` from ``WRAPIX_SANDBOX``.
The daemon believes the latter only from the host: a message from a sandbox is recorded
under the sandbox whose socket it arrived on, whatever it says.
Exit codes: 0 sent or no daemon; 2 bad usage.
"""

# Start-up is the cost here, so: os.path rather than pathlib, and the C halves of socket
# and json (the Python wrappers import selectors, enum and the JSON decoder: about 4 ms,
# measured with `python -X importtime`). No `from __future__` import either (0.3 ms).
import os
import sys
import time
from collections.abc import Mapping, Sequence

try:
    from _json import encode_basestring_ascii as _quote
    from _socket import AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM
    from _socket import socket as _Socket
except ImportError:  # not CPython: the public modules do the same
    from json.encoder import encode_basestring_ascii as _quote
    from socket import AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM
    from socket import socket as _Socket  # type: ignore[assignment]

CONTAINER_SOCKET = "/run/wrapix/notify.sock"
ROUTE_FILE = "/proc/net/route"
TCP_PORT = 5959
TIMEOUT = 1.0
RETRY_DELAY = 0.02
MAX_LINE = 64 * 1024
"""Same as :data:`wrapix_core.notify.protocol.MAX_LINE` (not imported: start-up cost)."""

USAGE = """usage: wrapix-notify TITLE [MESSAGE] [SOUND]
       wrapix-notify --agent NAME [PAYLOAD]   (an agent's own hook: codex, gemini,
                                               opencode; the payload's event picks
                                               the message, its text is never shown)

Send a desktop notification to the wrapix notification daemon on the host.
Exits 0 without a word when no daemon listens, and within one second in any case.

environment:
  WRAPIX_SESSION_ID        tmux pane of the sandbox (for focus-aware suppression)
  WRAPIX_SANDBOX           sandbox name for the inbox (from the host only: inside a
                           sandbox the daemon knows which one sent it)
  WRAPIX_NOTIFY_TCP        1: TCP to the default gateway, port 5959; or HOST:PORT
  WRAPIX_NOTIFY__SOCKET    Unix socket to use instead of the default
  WRAPIX_NOTIFY_VERBOSE=1  say on stderr why nothing was sent
"""

Target = tuple[int, str | tuple[str, int]]
"""(address family, address) to connect to."""


def default_gateway(route_file: str = ROUTE_FILE) -> str | None:
    """The IPv4 default gateway from ``/proc/net/route`` (little-endian hex)."""
    try:
        with open(route_file, encoding="ascii", errors="replace") as handle:
            next(handle, None)  # header
            for line in handle:
                fields = line.split()
                if len(fields) < 4 or fields[1] != "00000000":
                    continue
                if not int(fields[3], 16) & 0x2:  # RTF_GATEWAY
                    continue
                raw = int(fields[2], 16).to_bytes(4, "little")
                return ".".join(str(byte) for byte in raw)
    except (OSError, ValueError):
        return None
    return None


def host_socket(env: Mapping[str, str]) -> str:
    """The host's socket path; mirrors :func:`wrapix_core.paths.notify_socket`."""
    override = env.get("WRAPIX_RUNTIME_DIR")
    if override:
        return os.path.join(os.path.expanduser(override), "notify.sock")
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return os.path.join(xdg, "wrapix", "notify.sock")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "wrapix", "notify.sock")


def _tcp_target(value: str, route_file: str) -> Target | None:
    if value == "1":
        gateway = default_gateway(route_file)
        return (AF_INET, (gateway, TCP_PORT)) if gateway else None
    host, _, port = value.rpartition(":")
    if not host:
        host, port = value, str(TCP_PORT)
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        return None
    return (AF_INET6 if ":" in host else AF_INET, (host, number))


def resolve_target(env: Mapping[str, str], *, container_socket: str = CONTAINER_SOCKET,
                   route_file: str = ROUTE_FILE) -> Target | None:
    """Where to send, or None when there is nowhere (see the module docstring)."""
    tcp = env.get("WRAPIX_NOTIFY_TCP")
    if tcp:
        return _tcp_target(tcp, route_file)
    configured = env.get("WRAPIX_NOTIFY__SOCKET")
    if configured:
        return (AF_UNIX, os.path.expanduser(configured))
    if os.path.exists(container_socket):
        return (AF_UNIX, container_socket)
    return (AF_UNIX, host_socket(env))


def build_line(title: str, message: str = "", sound: str | None = None,
               env: Mapping[str, str] | None = None) -> bytes:
    """One protocol line; shortens the message (then the title) to fit the size limit."""
    env = os.environ if env is None else env
    extra = {}
    if sound:
        extra["sound"] = sound
    for field, variable in (("session_id", "WRAPIX_SESSION_ID"),
                            ("sandbox", "WRAPIX_SANDBOX")):
        value = env.get(variable)
        if value:
            extra[field] = value
    while True:
        fields = {"title": title, "message": message, **extra}
        line = ("{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in fields.items())
                + "}\n").encode()
        over = len(line) - 1 - MAX_LINE
        if over <= 0:
            return line
        # Each character takes at most 12 bytes escaped; cut enough, then re-measure.
        cut = over // 12 + 1
        if message:
            message = message[: max(0, len(message) - cut - 1)] + "…"
            if len(message) == 1:
                message = ""
        elif len(title) > 1:
            title = title[: max(1, len(title) - cut - 1)] + "…"
        else:
            extra = {}


def send(line: bytes, target: Target, timeout: float = TIMEOUT) -> None:
    """Connect, send, close — all within ``timeout`` seconds; raises ``OSError``."""
    deadline = time.monotonic() + timeout
    family, address = target
    while True:
        conn = _Socket(family, SOCK_STREAM)
        try:
            conn.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                conn.connect(address)
            except BlockingIOError:
                # A Unix socket with a full backlog says EAGAIN at once: the daemon is
                # busy (or hung). Try again until the budget is spent.
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                time.sleep(min(RETRY_DELAY, left))
                continue
            conn.settimeout(max(0.001, deadline - time.monotonic()))
            conn.sendall(line)
            return
        finally:
            conn.close()


def _say(env: Mapping[str, str], text: str) -> None:
    if env.get("WRAPIX_NOTIFY_VERBOSE") == "1":
        print(f"wrapix-notify: {text}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] == "--":
        args = args[1:]
    elif len(args) >= 2 and args[0] == "--agent":
        from wrapix_core.agents.notify import hook_call

        try:
            call = hook_call(args[1], args[2:], sys.stdin)
        except ValueError as exc:
            sys.stderr.write(f"wrapix-notify: {exc}\n")
            return 2
        if call.reply:
            sys.stdout.write(call.reply + "\n")
            sys.stdout.flush()
        args = [call.title, call.message]
    if not 1 <= len(args) <= 3:
        sys.stderr.write(USAGE)
        return 2
    title, message, sound = [*args, "", ""][:3]
    target = resolve_target(env)
    if target is None:
        _say(env, "no default gateway to send to (WRAPIX_NOTIFY_TCP)")
        return 0
    try:
        send(build_line(title, message, sound or None, env), target)
    except OSError as exc:  # no daemon, or it hung: never fail the agent's hook
        _say(env, f"not sent to {target[1]}: {exc}")
    return 0
