"""Worker processes of one node: spawning, output capture, exit detection."""

from __future__ import annotations

import enum
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import ray
from ray._private import constants, ids
from ray._private.generated import common_pb2
from ray._private.runtime_env import RUNTIME_ENV_VAR
from ray._private.runtime_env import validation as renv

logger = logging.getLogger(__name__)

# A worker writes this marker (a line of its own) when it starts a task, so
# its output can be attributed: "\x1eRAYCTX <job hex> <task name>".
CONTEXT_MARKER = "\x1eRAYCTX "


class OutputPipe:
    """One of a worker's output pipes, read in whole lines by its pump thread or by `drain`.

    Reads happen under a lock, so when `drain` finds the pipe empty while holding it,
    every byte the worker wrote before has been read and handed on.
    """

    def __init__(self, fd: int, is_err: bool, on_lines: Callable[[list[str]], None]) -> None:
        self.fd = fd
        self.is_err = is_err
        self.log: BinaryIO | None = None
        self._on_lines = on_lines
        self._partial = b""
        self._lock = threading.Lock()
        self._closed = False
        os.set_blocking(fd, False)

    def pump(self) -> None:
        """Until EOF: waits for output and hands it on (the pump thread)."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while not self._closed:
            poller.poll(1000)
            with self._lock:
                self._read_available()

    def drain(self, deadline: float) -> int:
        """Hands on whatever is in the pipe now; returns the number of lines."""
        if not self._lock.acquire(timeout=min(max(deadline - time.monotonic(), 0.0), 60.0)):
            return 0
        try:
            return self._read_available(deadline)
        finally:
            self._lock.release()

    def _read_available(self, deadline: float | None = None) -> int:
        count = 0
        while not self._closed:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if self.log is not None and chunk:
                self.log.write(chunk)
            if not chunk:
                self._closed = True
                chunk = b"\n" if self._partial else b""
            data = self._partial + chunk
            *complete, self._partial = data.split(b"\n")
            if complete:
                lines = [c.decode(errors="replace") for c in complete]
                count += len(lines)
                self._on_lines(lines)
            if deadline is not None and time.monotonic() > deadline:
                break
        return count


class WorkerState(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    LEASED = "leased"
    DEAD = "dead"


@dataclass
class WorkerProcess:
    """One worker process started by this node."""

    worker_id: bytes
    startup_token: bytes
    popen: subprocess.Popen
    lifeline_w: int
    state: WorkerState = WorkerState.STARTING
    port: int = 0
    lease_id: bytes = b""
    actor_id: bytes = b""
    idle_since: float = field(default_factory=time.monotonic)
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=constants.STDERR_TAIL_LINES))
    task_name: str = ""
    job_id: bytes = b""
    exit_info: common_pb2.WorkerExitInfo | None = None
    exit_intended: bool = False
    blocked: bool = False
    oom_kills_at_start: int = 0
    # The runtime env it was started for (TaskSpec.serialized_runtime_env; "" for none).
    runtime_env: str = ""
    pipes: list[OutputPipe] = field(default_factory=list)
    _lifeline_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def close_lifeline(self) -> None:
        """Closes our end of the worker's lifeline (it then exits); safe to call twice.

        The fd number is cleared under a lock: closing it twice could close an
        unrelated file that reused the number.
        """
        with self._lifeline_lock:
            fd, self.lifeline_w = self.lifeline_w, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


def _oom_kill_count() -> int:
    """OOM kills seen by this cgroup so far (0 if unknown)."""
    try:
        for line in Path("/sys/fs/cgroup/memory.events").read_text().splitlines():
            key, value = line.split()
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


class WorkerPool:
    """Starts workers and watches them. Calls back (without holding its lock) on output and exit."""

    def __init__(
        self,
        node_manager_port_fn: Callable[[], int],
        gcs_address: str,
        node_id: bytes,
        session_dir: Path,
        token: str,
        on_exit: Callable[[WorkerProcess], None],
        on_output: Callable[[WorkerProcess, bool, list[str]], None],
        env_overrides: dict[str, str] | None = None,
    ) -> None:
        self._port_fn = node_manager_port_fn
        self._gcs_address = gcs_address
        self._node_id = node_id
        self._session_dir = session_dir
        self._token = token
        self._on_exit = on_exit
        self._on_output = on_output
        self._env_overrides = env_overrides or {}
        self.workers: dict[bytes, WorkerProcess] = {}

    def start_worker(self, runtime_env: str = "") -> WorkerProcess:
        """Spawns a worker (for `runtime_env`); it becomes usable when it calls RegisterWorker."""
        worker_id = ids.new_unique_id()
        startup_token = os.urandom(8)
        env = dict(os.environ)
        env.update(self._env_overrides)
        if runtime_env:
            env.update(renv.deserialize(runtime_env).get("env_vars") or {})
            env[RUNTIME_ENV_VAR] = runtime_env
        lifeline_r, lifeline_w = os.pipe()
        env[constants.TOKEN_ENV] = self._token
        env["PYTHONUNBUFFERED"] = "1"
        # The public API loads when the worker's code first uses it (an idle worker never does).
        env[ray.SERVICE_PROCESS_ENV] = "1"
        cmd = [
            sys.executable,
            "-m",
            "ray._private.worker.worker_main",
            "--node-manager-port",
            str(self._port_fn()),
            "--gcs-address",
            self._gcs_address,
            "--node-id",
            self._node_id.hex(),
            "--worker-id",
            worker_id.hex(),
            "--startup-token",
            startup_token.hex(),
            "--session-dir",
            str(self._session_dir),
            "--lifeline-fd",
            str(lifeline_r),
        ]
        try:
            popen = subprocess.Popen(
                cmd,
                pass_fds=[lifeline_r],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        finally:
            os.close(lifeline_r)
        worker = WorkerProcess(worker_id, startup_token, popen, lifeline_w, runtime_env=runtime_env)
        worker.oom_kills_at_start = _oom_kill_count()
        self.workers[worker_id] = worker
        logs = self._session_dir / "logs"
        out_path = logs / f"worker-{worker_id.hex()[:12]}-{popen.pid}.out"
        err_path = logs / f"worker-{worker_id.hex()[:12]}-{popen.pid}.err"
        threading.Thread(
            target=self._pump,
            args=(worker, popen.stdout, out_path, False),
            daemon=True,
            name=f"out-{popen.pid}",
        ).start()
        threading.Thread(
            target=self._pump,
            args=(worker, popen.stderr, err_path, True),
            daemon=True,
            name=f"err-{popen.pid}",
        ).start()
        return worker

    def _pump(self, worker: WorkerProcess, stream, path: Path, is_err: bool) -> None:  # noqa: ANN001
        pipe = OutputPipe(stream.fileno(), is_err, lambda lines: self._lines(worker, is_err, lines))
        worker.pipes.append(pipe)
        with open(path, "ab", buffering=0) as log:
            pipe.log = log
            pipe.pump()
        stream.close()
        if is_err:
            self._reap(worker)

    def _lines(self, worker: WorkerProcess, is_err: bool, lines: list[str]) -> None:
        out: list[str] = []
        for line in lines:
            if line.startswith(CONTEXT_MARKER):
                if out:
                    self._on_output(worker, is_err, out)
                    out = []
                parts = line[len(CONTEXT_MARKER) :].split(" ", 1)
                worker.job_id = bytes.fromhex(parts[0]) if parts[0] else b""
                worker.task_name = parts[1] if len(parts) > 1 else ""
                continue
            if is_err:
                worker.stderr_tail.append(line)
            out.append(line)
        if out:
            self._on_output(worker, is_err, out)

    def drain(self, job_id: bytes, deadline: float) -> int:
        """Reads, now, what workers of `job_id` (or of no job yet) wrote so far; returns the lines.

        Everything a worker wrote before this call is passed to the output callback
        before it returns (unless `deadline`, a time.monotonic(), passes first).
        """
        workers = [
            w for w in list(self.workers.values()) if not job_id or w.job_id in (b"", job_id)
        ]
        count = 0
        for w in workers:
            for pipe in list(w.pipes):
                count += pipe.drain(deadline)
        return count

    def _reap(self, worker: WorkerProcess) -> None:
        code = worker.popen.wait()
        info = common_pb2.WorkerExitInfo(
            worker_id=worker.worker_id, pid=worker.pid, intended=worker.exit_intended
        )
        if code < 0:
            info.signal = -code
            info.out_of_memory = (
                -code == signal.SIGKILL and _oom_kill_count() > worker.oom_kills_at_start
            )
            name = (
                signal.Signals(-code).name
                if -code in signal.Signals._value2member_map_
                else str(-code)
            )
            info.description = f"killed by signal {-code} ({name})"
            if info.out_of_memory:
                info.description += ": the kernel's out-of-memory killer ended it"
        else:
            info.exit_code = code
            info.description = f"exited with code {code}"
        info.stderr_tail = "\n".join(worker.stderr_tail)
        worker.exit_info = info
        worker.close_lifeline()
        self._on_exit(worker)

    def stop_all(self, timeout_s: float = 3.0) -> None:
        """Closes every lifeline, then SIGKILLs what is left."""
        workers = list(self.workers.values())
        for w in workers:
            w.exit_intended = True
            w.close_lifeline()
        deadline = time.monotonic() + timeout_s
        for w in workers:
            try:
                w.popen.wait(max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                w.popen.kill()
        for w in workers:
            try:
                w.popen.wait(2.0)
            except subprocess.TimeoutExpired:
                logger.warning("worker %d did not exit", w.pid)
