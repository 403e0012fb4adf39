"""The processes `ray start` started on this machine: their record, and stopping them.

Every GCS and node manager that `ray start` launches is recorded in
`<RAY_TMPDIR>/ray_started_processes.json` with its pid and start time. `ray stop`
signals only processes that match a record (same pid, same start time, running the
recorded module), so it never touches a process it did not start, even if a pid
was reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

import psutil

from ray._private import constants
from ray._private import session as session_mod
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)

# The processes `ray start` started on this machine, for `ray stop`.
STARTED_PROCESSES_FILE = "ray_started_processes.json"
GCS = "gcs"
NODE_MANAGER = "node_manager"
# What each kind of process runs (`python -m <module>`); checked before signalling a pid.
_MODULES = {GCS: "ray._private.gcs", NODE_MANAGER: "ray._private.node_manager"}
# How long killed processes may take to disappear.
_KILL_WAIT_S = 5.0


@dataclass(frozen=True)
class StartedProcess:
    """One process started by `ray start`, as recorded for `ray stop`.

    Attributes:
        kind: `gcs` or `node_manager`.
        pid: Its pid, which is also its process group id (it leads a new session).
        create_time: Its start time (psutil), so a reused pid is never mistaken for it.
        address: Where it listens (`HOST:PORT`).
        gcs_address: The GCS of its cluster.
        session_dir: Its session directory (token, logs).
        node_id: The node's id in hex (node managers only).
    """

    kind: str
    pid: int
    create_time: float
    address: str
    gcs_address: str
    session_dir: str
    node_id: str = ""

    @property
    def label(self) -> str:
        """How the process is named in messages."""
        if self.kind == GCS:
            return f"GCS (pid {self.pid}) at {self.address}"
        return f"node manager {self.node_id[:12]} (pid {self.pid}) at {self.address}"

    @property
    def session(self) -> session_mod.Session:
        return session_mod.Session(Path(self.session_dir))

    def running(self) -> psutil.Process | None:
        """The process if it still runs and is the one recorded (not a reused pid), else None."""
        try:
            proc = psutil.Process(self.pid)
            if abs(proc.create_time() - self.create_time) > 0.5:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            if _MODULES[self.kind] not in proc.cmdline():
                return None
            return proc
        except (psutil.Error, KeyError):
            return None

    @classmethod
    def of(
        cls,
        kind: str,
        pid: int,
        address: str,
        gcs_address: str,
        session: session_mod.Session,
        node_id: bytes = b"",
    ) -> StartedProcess:
        """The record of a process just started (reads its start time).

        Raises:
            psutil.NoSuchProcess: It already exited.
        """
        return cls(
            kind=kind,
            pid=pid,
            create_time=psutil.Process(pid).create_time(),
            address=address,
            gcs_address=gcs_address,
            session_dir=str(session.session_dir),
            node_id=node_id.hex(),
        )


class ProcessRecord:
    """The file listing what `ray start` started on this machine. Updates hold a file lock."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(constants.TEMP_DIR) if root is None else root
        self.path = self.root / STARTED_PROCESSES_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / (STARTED_PROCESSES_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self) -> list[StartedProcess]:
        try:
            if self.path.stat().st_uid != os.getuid():
                logger.warning("ignoring %s: another user owns it", self.path)
                return []
            data = json.loads(self.path.read_text())
            return [StartedProcess(**entry) for entry in data["processes"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as err:
            logger.warning("ignoring unreadable %s: %s", self.path, err)
            return []

    def _write(self, entries: list[StartedProcess]) -> None:
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_name(f".{STARTED_PROCESSES_FILE}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"processes": [asdict(e) for e in entries]}, f, indent=1)
        tmp.replace(self.path)

    def load(self) -> list[StartedProcess]:
        """Every recorded process, running or not."""
        with self._locked():
            return self._read()

    def add(self, entries: list[StartedProcess]) -> None:
        """Records new processes. Entries of crashed ones stay, so `ray stop` cleans up after them."""
        with self._locked():
            self._write(self._read() + entries)

    def remove(self, entries: list[StartedProcess]) -> None:
        with self._locked():
            self._write([e for e in self._read() if e not in entries])


class Outcome(Enum):
    """What `stop_processes` did to one recorded process."""

    STOPPED = "Stopped"
    KILLED = "Killed"
    ALREADY_GONE = "Already gone:"
    SURVIVED = "Could not stop"


def stop_processes(
    entries: list[StartedProcess], grace_s: float, force: bool
) -> list[tuple[StartedProcess, Outcome]]:
    """Stops node managers first, then GCSes: a polite request, then SIGKILL after `grace_s`.

    Node managers get a ShutdownNode RPC (they stop their workers, leave the GCS and
    remove their object store); if that fails, and for a GCS, SIGTERM. Whatever is
    left after `grace_s`, or at once with `force`, gets SIGKILL to its process group
    and to every process it had spawned.

    Args:
        entries: The recorded processes.
        grace_s: How long to wait for a clean exit.
        force: SIGKILL at once.

    Returns:
        Each entry with what happened to it.
    """
    results: list[tuple[StartedProcess, Outcome]] = []
    for kind in (NODE_MANAGER, GCS):
        live: dict[StartedProcess, list[psutil.Process]] = {}
        for entry in (e for e in entries if e.kind == kind):
            proc = entry.running()
            if proc is None:
                results.append((entry, Outcome.ALREADY_GONE))
            else:
                live[entry] = [proc, *_descendants(proc)]
        if not force:
            for entry, procs in live.items():
                _ask_to_stop(entry, procs[0])
            _wait_gone([p for procs in live.values() for p in procs], grace_s)
        killed = set()
        for entry, procs in live.items():
            if any(_alive(p) for p in procs):
                killed.add(entry)
                _kill(entry, procs)
        for entry, procs in live.items():
            if _wait_gone(procs, _KILL_WAIT_S):
                results.append((entry, Outcome.SURVIVED))
            else:
                results.append((entry, Outcome.KILLED if entry in killed else Outcome.STOPPED))
    return results


def cleanup_node_files(entry: StartedProcess) -> list[Path]:
    """Removes what a node manager that could not clean up left: its shm and spill directories.

    Returns:
        The directories removed.
    """
    if entry.kind != NODE_MANAGER or not entry.node_id:
        return []
    node_id = bytes.fromhex(entry.node_id)
    removed = []
    for path in (entry.session.shm_dir(node_id), entry.session.spill_dir(node_id)):
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Polls until every process exited; returns those still alive at the deadline."""
    deadline = time.monotonic() + timeout_s
    left = [p for p in procs if _alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if _alive(p)]
    return left


def _descendants(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _ask_to_stop(entry: StartedProcess, proc: psutil.Process) -> None:
    if entry.kind == NODE_MANAGER:
        try:
            token = entry.session.read_token()
            NodeManagerClient(entry.address, token).shutdown(timeout_s=2.0)
            return
        except (OSError, rpc_errors.RpcFailure) as err:
            logger.debug("ShutdownNode to %s failed (%s); sending SIGTERM", entry.address, err)
    with contextlib.suppress(psutil.Error):
        proc.terminate()


def _kill(entry: StartedProcess, procs: list[psutil.Process]) -> None:
    """SIGKILLs the process group the process leads (while it is verified alive), then the rest."""
    leader = procs[0]
    try:
        if _alive(leader) and os.getpgid(entry.pid) == entry.pid:
            os.killpg(entry.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for proc in procs:
        if _alive(proc):
            with contextlib.suppress(psutil.Error):
                proc.kill()
