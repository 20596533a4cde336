"""`wrapix-notifyd`: the host notification daemon.

Without ``--foreground`` it does what ``…d`` commands are expected to do when a person
types them: it starts the daemon in the background, waits until the socket accepts
connections, prints where it listens and returns — so ``wrapix-notifyd && wrapix``
works, and a daemon that cannot start (one is already running, bad address) is
reported right there with a non-zero exit. Its log then goes to
``$XDG_STATE_HOME/wrapix/notifyd.log`` (rotated at 1 MiB). ``--foreground`` keeps it
attached and logs to stderr: use it under systemd/launchd, niri's
``spawn-at-startup``, or to watch decisions with ``--verbose``.

Exit codes: 0 started (background) or stopped cleanly by SIGINT/SIGTERM (foreground);
1 a daemon is already running, or the socket/TCP address cannot be used; 2 bad options
or settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import os
import signal
import sys
from pathlib import Path

import click

from wrapix_core import __version__, paths
from wrapix_core.cli.base import fail
from wrapix_core.errors import WrapixError

PROG = "wrapix-notifyd"
LOG_NAME = "notifyd.log"
START_TIMEOUT = 15.0


def log_file() -> Path:
    return paths.state_dir() / LOG_NAME


def _setup_logging(handler: logging.Handler, *, timestamps: bool) -> None:
    stamp = "%(asctime)s " if timestamps else ""
    handler.setFormatter(logging.Formatter(f"{stamp}{PROG}: %(message)s"))
    root = logging.getLogger("wrapix")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


async def _serve(socket: Path | None, tcp: str | None, verbose: bool,
                 ready: int | None) -> None:
    from wrapix_core.notify.daemon import DaemonConfig, NotifyDaemon
    from wrapix_core.settings import load_settings

    settings = load_settings()
    config = DaemonConfig.from_settings(settings, socket=socket, tcp=tcp, verbose=verbose)
    daemon = NotifyDaemon(config)
    await daemon.start()
    forwarders = None
    if settings.hosts and config.sandbox_sockets:
        # Remote sandboxes' notifications arrive over SSH-forwarded sockets.
        from wrapix_core.hosts.forward import Forwarders

        forwarders = Forwarders(settings, daemon.socket_path)
        forwarders.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        os.write(ready, b"0\tok\n")
        os.close(ready)
    try:
        await stop.wait()
    finally:
        if forwarders is not None:
            await forwarders.stop()
        await daemon.stop()


def _check_options(tcp: str | None) -> None:
    """Fail before forking on what can be checked without starting."""
    from wrapix_core.notify.listener import parse_tcp
    from wrapix_core.settings import load_settings

    settings = load_settings()
    value = tcp or settings.notify.tcp
    if value:
        parse_tcp(value)


def _run_foreground(socket: Path | None, tcp: str | None, verbose: bool) -> None:
    _setup_logging(logging.StreamHandler(sys.stderr), timestamps=False)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(socket, tcp, verbose, None))


def _run_background(socket: Path | None, tcp: str | None, verbose: bool) -> None:
    _check_options(tcp)
    target = log_file()
    paths.ensure_private_dir(target.parent)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the daemon
        os.close(read_end)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        os.chdir("/")
        _setup_logging(logging.handlers.RotatingFileHandler(
            target, maxBytes=1 << 20, backupCount=1, encoding="utf-8"), timestamps=True)
        code = 0
        try:
            asyncio.run(_serve(socket, tcp, verbose, write_end))
        except WrapixError as error:
            logging.getLogger("wrapix").error("%s", error)
            with contextlib.suppress(OSError):
                os.write(write_end, f"{error.exit_code}\t{error}\n".encode())
            code = error.exit_code
        except BaseException:
            logging.getLogger("wrapix").exception("crashed")
            code = 1
        os._exit(code)
    os.close(write_end)
    answer = _read_answer(read_end)
    os.close(read_end)
    if answer is None:
        fail(PROG, WrapixError(f"the daemon exited while starting (pid {pid})",
                               f"see {target}", exit_code=1))
    assert answer is not None
    status, _, message = answer.partition("\t")
    if status != "0":
        fail(PROG, WrapixError(message, exit_code=int(status) if status.isdigit() else 1))
    click.echo(f"{PROG}: listening on {_socket_path(socket)} (pid {pid}); log: {target}")


def _socket_path(socket: Path | None) -> Path:
    if socket is not None:
        return socket
    from wrapix_core.settings import load_settings

    return load_settings().notify.socket or paths.notify_socket()


def _read_answer(fd: int) -> str | None:
    """The child's first line: ``0\\tok`` when listening, ``CODE\\tmessage`` on failure."""
    import select

    data = b""
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], START_TIMEOUT)
        if not ready:
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace")


@click.command(PROG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--socket", type=click.Path(path_type=Path, dir_okay=False),
              help="Unix socket to listen on (default: $XDG_RUNTIME_DIR/wrapix/notify.sock, "
                   "or the notify.socket setting).")
@click.option("--tcp", metavar="HOST[:PORT]",
              help="Also listen on TCP, on this IP address only (macOS: the container "
                   "gateway; default 192.168.64.1:5959 there). 0.0.0.0 is refused.")
@click.option("--foreground", is_flag=True,
              help="Stay attached and log to stderr (for systemd, launchd, niri).")
@click.option("--verbose", is_flag=True,
              help="Log every decision (same as WRAPIX_NOTIFY_VERBOSE=1).")
@click.version_option(__version__, prog_name=PROG)
def notifyd(socket: Path | None, tcp: str | None, foreground: bool, verbose: bool) -> None:
    """Receive notifications from sandboxes, show desktop popups, keep the inbox.

    Without --foreground the daemon starts in the background and this command returns
    once it listens (log: $XDG_STATE_HOME/wrapix/notifyd.log). SIGINT or SIGTERM stop it
    and remove its socket.
    """
    try:
        if foreground:
            _run_foreground(socket, tcp, verbose)
        else:
            _run_background(socket, tcp, verbose)
    except WrapixError as error:
        fail(PROG, error)


def main() -> None:
    notifyd(prog_name=PROG)
