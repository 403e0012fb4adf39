"""Starting and stopping the runtime's processes.

Every child gets a lifeline: the read end of a pipe whose write end only its
parent holds. When the parent dies, even by SIGKILL, the child reads EOF and
exits, so no process outlives the one that started it. Children report the
port they bound through a second pipe, so ports are always chosen by the OS.

Every process of a node inherits the node's address in `RAY_NODE_IP_ADDRESS`, and
the `--host` of a runtime process defaults to it, so a worker that its node manager
starts without `--host` still listens on its node's address, not on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ray._private import constants

if TYPE_CHECKING:
    from pathlib import Path

    import psutil

logger = logging.getLogger(__name__)

# The address of the node a process belongs to; set for the node's services by `start_node`
# and inherited by the workers they start. The default of `--host` (see `add_common_args`).
NODE_IP_ENV = "RAY_NODE_IP_ADDRESS"


@dataclass
class ChildProcess:
    """A process this one started, with the pipes that tie it to us."""

    name: str
    popen: subprocess.Popen
    lifeline_w: int | None
    ready_r: int
    port: int | None = None
    # What the child reported after its port, if anything (e.g. a session's job id).
    ready_extra: str = ""
    stdout_path: Path | None = None
    extra: dict = field(default_factory=dict)
    # Whether the child leads a process group of its own (then `stop` kills that group).
    own_group: bool = True

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, timeout_s: float = constants.PROCESS_START_TIMEOUT_S) -> int:
        """Waits for the child to report its port.

        Raises:
            RuntimeError: The child exited or did not report in time (its log is quoted).
        """
        deadline = time.monotonic() + timeout_s
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(
                    f"{self.name} did not start within {timeout_s:.0f}s{self._log_hint()}"
                )
            ready, _, _ = select.select([self.ready_r], [], [], min(left, 0.1))
            if ready:
                chunk = os.read(self.ready_r, 64)
                if not chunk:
                    raise RuntimeError(f"{self.name} exited during startup{self._log_hint()}")
                data += chunk
        os.close(self.ready_r)
        port, _, extra = data.split(b"\n")[0].decode().partition(" ")
        self.port = int(port)
        self.ready_extra = extra
        return self.port

    def _log_hint(self) -> str:
        if self.stdout_path is None:
            return ""
        try:
            tail = self.stdout_path.read_text(errors="replace").strip().splitlines()[-15:]
        except OSError:
            return ""
        return f". Its log {self.stdout_path} ends with:\n" + "\n".join(tail)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the child and its process group: close the lifeline, SIGTERM, then SIGKILL.

        A child that shares our process group is SIGKILLed with its descendants instead.
        """
        descendants = [] if self.own_group else _descendants(self.pid)
        if self.lifeline_w is not None:
            try:
                os.close(self.lifeline_w)
            except OSError:
                pass
            self.lifeline_w = None
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
        if self.own_group:
            kill_group(self.pid)
        else:
            import psutil  # only here: importing it costs every `import ray` ~10 ms

            for proc in [*descendants, *_descendants(self.pid)]:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            if self.popen.poll() is None:
                self.popen.kill()
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("%s (pid %d) did not exit after SIGKILL", self.name, self.pid)


def _descendants(pid: int) -> list[psutil.Process]:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def kill_group(pgid: int) -> None:
    """SIGKILLs a process group we created (a no-op when it is gone)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def spawn(
    name: str,
    module: str,
    args: list[str],
    log_path: Path | None,
    env: dict[str, str] | None = None,
    with_lifeline: bool = True,
    new_group: bool = True,
    stdout: int | None = None,
    extra_fds: tuple[int, ...] = (),
) -> ChildProcess:
    """Starts `python -m module args...` with a ready pipe and (optionally) a lifeline.

    The child is told the pipe fds with `--ready-fd` and `--lifeline-fd`. With `new_group`
    it leads a new session (and process group); otherwise it stays in ours.
    """
    ready_r, ready_w = os.pipe()
    pass_fds = [ready_w, *extra_fds]
    lifeline_r = lifeline_w = None
    cmd = [sys.executable, "-m", module, *args, "--ready-fd", str(ready_w)]
    if with_lifeline:
        lifeline_r, lifeline_w = os.pipe()
        pass_fds.append(lifeline_r)
        cmd += ["--lifeline-fd", str(lifeline_r)]
    out = None
    if stdout is not None:
        out = stdout
    elif log_path is not None:
        out = open(log_path, "ab", buffering=0)  # noqa: SIM115
    try:
        popen = subprocess.Popen(
            cmd,
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            env=env,
            start_new_session=new_group,
        )
    finally:
        os.close(ready_w)
        if lifeline_r is not None:
            os.close(lifeline_r)
        if out is not None and stdout is None:
            out.close()
    return ChildProcess(name, popen, lifeline_w, ready_r, stdout_path=log_path, own_group=new_group)


def report_ready(ready_fd: int | None, port: int, extra: str = "") -> None:
    """Child side: tell the parent which port we bound (and, on the same line, `extra`)."""
    if ready_fd is None or ready_fd < 0:
        return
    line = f"{port} {extra}" if extra else f"{port}"
    os.write(ready_fd, f"{line}\n".encode())
    os.close(ready_fd)


class StopRequest:
    """A service process's "stop now", set by SIGTERM/SIGINT, its lifeline or an RPC.

    A plain flag plus a byte written to a pipe, which the main thread waits on: a signal
    handler runs on the main thread between any two bytecodes, possibly while that thread
    holds the lock inside a threading.Event, so setting an Event from the handler can
    deadlock the process. Writing to a non-blocking pipe cannot.
    """

    def __init__(self) -> None:
        self._requested = False
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)

    def set(self, *_: object) -> None:
        self._requested = True
        try:
            os.write(self._write_fd, b"x")
        except OSError:
            pass  # the pipe is full (a stop is already signalled) or closed

    def is_set(self) -> bool:
        return self._requested

    def fileno(self) -> int:
        """Readable once a stop is requested (for an event loop's add_reader)."""
        return self._read_fd

    def install(self, lifeline_fd: int | None) -> None:
        """Stops on SIGTERM, SIGINT, or when the parent's end of the lifeline closes."""
        signal.signal(signal.SIGTERM, self.set)
        signal.signal(signal.SIGINT, self.set)
        watch_lifeline(lifeline_fd, self.set)

    def wait(self) -> None:
        """Blocks the main thread until a stop is requested (no polling), then `stopping()`."""
        while not self._requested:
            select.select([self._read_fd], [], [])
        self.stopping()

    def stopping(self) -> None:
        """Main thread, once the stop began: a later SIGTERM is ignored.

        A parent closes the lifeline and sends SIGTERM right after; a process that is quick
        to stop could otherwise get that SIGTERM during interpreter shutdown, after Python's
        handlers are gone, and die of it instead of exiting cleanly.
        """
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def watch_lifeline(lifeline_fd: int | None, on_parent_death: Callable[[], None]) -> None:
    """Child side: call `on_parent_death` when the parent's end of the lifeline closes."""
    if lifeline_fd is None or lifeline_fd < 0:
        return

    def run() -> None:
        while True:
            try:
                data = os.read(lifeline_fd, 1)
            except InterruptedError:
                continue
            except OSError:
                data = b""
            if not data:
                break
        on_parent_death()

    threading.Thread(target=run, name="lifeline", daemon=True).start()


def add_common_args(parser: object) -> None:
    """Adds --ready-fd and --lifeline-fd to an argparse parser.

    If the parser has a `--host` option, its default becomes the node's address
    (`RAY_NODE_IP_ADDRESS`), so every process of a node listens on that address.
    """
    parser.add_argument("--ready-fd", type=int, default=-1)  # type: ignore[attr-defined]
    parser.add_argument("--lifeline-fd", type=int, default=-1)  # type: ignore[attr-defined]
    node_ip = os.environ.get(NODE_IP_ENV)
    if node_ip and parser.get_default("host") is not None:  # type: ignore[attr-defined]
        parser.set_defaults(host=node_ip)  # type: ignore[attr-defined]


def setup_process_logging(component: str, log_file: str | None = None) -> None:
    """Logging for a runtime process: to stderr (redirected to its log file), or to `log_file`.

    Workers log to a file of their own, so their stderr carries only what user
    code writes (it is forwarded to the driver).
    """
    level = os.environ.get("RAY_LOG_LEVEL", "INFO").upper()
    fmt = f"%(asctime)s %(levelname)s {component} %(process)d %(name)s: %(message)s"
    if log_file is not None:
        logging.basicConfig(level=level, format=fmt, filename=log_file)
    else:
        logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
