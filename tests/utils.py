"""Helpers shared by the tests: polling, leak checks, drivers in subprocesses, the `ray` command
line and a multi-node cluster on this machine.

Tests import these with `from utils import ...` (pytest puts `tests/` on `sys.path`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHM_DIR = Path("/dev/shm")
# Object store directories are named ray_<end of session name>_<node id>, and a session
# name ends with the pid of the process that created it.
_SHM_SESSION_PID = re.compile(r"^ray_.*_(\d+)_[0-9a-f]+$")


def wait_for_file(path: str, limit_s: float = 120.0) -> bool:
    """Blocks until `path` exists, at most `limit_s` (nothing waits forever); whether it does.

    Tasks use it to wait for a go-ahead the test gives by creating the file.
    """
    deadline = time.monotonic() + limit_s
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def wait_for_condition(
    condition_predictor: Callable[[], Any],
    timeout: float = 10,
    retry_interval_ms: float = 50,
    **kwargs: Any,
) -> Any:
    """Polls `condition_predictor(**kwargs)` until it returns something truthy.

    Exceptions raised by the predicate count as "not yet" (the last one is reported).

    Returns:
        The first truthy value.

    Raises:
        pytest.fail.Exception: Not true within `timeout`; the message holds the last value seen.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition_predictor(**kwargs)
            if last:
                return last
        except Exception as err:  # noqa: BLE001 - retried; reported if it never passes
            last = err
        if time.monotonic() >= deadline:
            break
        time.sleep(retry_interval_ms / 1000)
    name = getattr(condition_predictor, "__name__", repr(condition_predictor))
    pytest.fail(f"condition {name} not met within {timeout}s; last observed value: {last!r}")


# ---- leak checks -------------------------------------------------------------------------


def shm_entries() -> set[str]:
    """Names of the entries in /dev/shm right now."""
    try:
        return set(os.listdir(SHM_DIR))
    except FileNotFoundError:
        return set()


def new_shm_entries(before: set[str], foreign_ok: bool = True) -> set[str]:
    """Entries of /dev/shm that are not in `before`.

    With `foreign_ok`, object store directories of sessions created by other processes
    (another test suite running on the same machine) are not counted.
    """
    out = set()
    for name in shm_entries() - before:
        m = _SHM_SESSION_PID.match(name)
        if foreign_ok and m is not None and int(m.group(1)) != os.getpid():
            continue
        out.add(name)
    return out


def child_processes() -> list[psutil.Process]:
    """Every live descendant of this process (zombies count as gone)."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def describe(procs: Iterable[psutil.Process]) -> str:
    lines = []
    for p in procs:
        try:
            lines.append(f"pid {p.pid}: {' '.join(p.cmdline())[:200]}")
        except psutil.Error:
            lines.append(f"pid {p.pid}: <gone>")
    return "\n".join(lines)


def alive(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def assert_no_leaks(
    shm_before: set[str], seen: Iterable[psutil.Process] = (), timeout: float = 10
) -> None:
    """Fails if a process this test started, or a /dev/shm entry it made, is still there.

    Survivors are SIGKILLed after they are reported, so one leak does not fail later tests.

    Args:
        shm_before: `shm_entries()` taken before the cluster started.
        seen: Processes observed while the cluster ran (catches orphans reparented away).
        timeout: How long processes and files get to go away.
    """
    seen = list(seen)
    deadline = time.monotonic() + timeout
    while True:
        survivors = list({p.pid: p for p in alive(seen + child_processes())}.values())
        leaked = new_shm_entries(shm_before)
        if not survivors and not leaked:
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    problems = []
    if survivors:
        problems.append(
            f"{len(survivors)} process(es) survived the cluster:\n{describe(survivors)}"
        )
        for p in survivors:
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(survivors, timeout=5)
    if leaked:
        problems.append(f"/dev/shm entries leaked: {sorted(leaked)}")
    pytest.fail("\n".join(problems))


# ---- drivers in subprocesses ---------------------------------------------------------------


def driver_env(**extra: str) -> dict[str, str]:
    """The environment for a driver subprocess: this interpreter, the repo's `ray`, no cluster address."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_CLUSTER_TOKEN")}
    python_dir = str(REPO_ROOT / "python")
    env["PYTHONPATH"] = python_dir + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_string_as_driver(
    script: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Runs `script` in a fresh Python process and returns its result (stdout and stderr as text)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or driver_env(),
        cwd=str(REPO_ROOT),
    )


def start_driver(script: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Starts `script` in a fresh Python process (stdout piped, stderr merged)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or driver_env(),
        cwd=str(REPO_ROOT),
    )


# ---- the `ray` command line, isolated ------------------------------------------------------


# How long one `ray` command or driver of a test may take.
CLI_TIMEOUT_S = 120


def ray_command() -> list[str]:
    """How to run `ray`: the console script next to this interpreter, as a user types it."""
    script = Path(sys.executable).parent / "ray"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ray._private.cli.main"]


def cli_env(ray_tmpdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `ray` command or driver that sees only the clusters recorded
    under `ray_tmpdir` (never a developer's), with no address or token given."""
    env = driver_env(**extra)
    env["RAY_TMPDIR"] = str(ray_tmpdir)
    return env


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A group whose members are all zombies still "exists"; count only live members.
    return any(alive(group_members(pgid)))


def group_members(pgid: int) -> list[psutil.Process]:
    """The processes of process group `pgid`."""
    out = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                out.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def listening_addresses(procs: Iterable[psutil.Process]) -> dict[tuple[str, int], int]:
    """The TCP addresses the processes listen on, each with the pid that listens."""
    out = {}
    for proc in procs:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    ip = conn.laddr.ip.removeprefix("::ffff:")
                    out[(ip, conn.laddr.port)] = proc.pid
        except psutil.Error:
            continue
    return out


class Cli:
    """Runs `ray ...` and drivers on this machine against one isolated RAY_TMPDIR, and
    remembers every process (and listening address) the clusters it starts record."""

    def __init__(self, tmpdir: Path) -> None:
        self.tmpdir = tmpdir
        self.env = cli_env(tmpdir)
        self.command = ray_command()
        # Every process a cluster recorded while the test ran (and their children).
        self.seen: dict[int, psutil.Process] = {}
        self.seen_listening: dict[tuple[str, int], int] = {}

    def run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*self.command, *args],
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        self.remember_processes()
        if check:
            assert result.returncode == 0, (
                f"ray {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def driver(
        self, code: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if check:
            assert result.returncode == 0, f"driver failed:\n{result.stdout}\n{result.stderr}"
        return result

    def recorded(self) -> list[dict[str, Any]]:
        """What `ray start` recorded for `ray stop` (ray_started_processes.json)."""
        path = self.tmpdir / "ray_started_processes.json"
        return json.loads(path.read_text())["processes"] if path.exists() else []

    def current_cluster(self) -> tuple[str, Any] | None:
        path = self.tmpdir / "ray_current_cluster"
        if not path.exists():
            return None
        address, session_dir = path.read_text().split("\n")[:2]
        return address, _session(Path(session_dir))

    def address(self) -> str:
        current = self.current_cluster()
        assert current is not None, "no cluster recorded"
        return current[0]

    def token(self) -> str:
        current = self.current_cluster()
        assert current is not None, "no cluster recorded"
        return current[1].read_token()

    def remember_processes(self) -> None:
        for entry in self.recorded():
            try:
                proc = psutil.Process(entry["pid"])
                if abs(proc.create_time() - entry["create_time"]) > 0.5:
                    continue
                procs = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                continue
            for p in procs:
                self.seen.setdefault(p.pid, p)
            self.seen_listening.update(listening_addresses(procs))

    def node_shm_dirs(self) -> list[Path]:
        """The /dev/shm directories of the node managers recorded so far."""
        return [
            _session(Path(e["session_dir"])).shm_dir(bytes.fromhex(e["node_id"]))
            for e in self.recorded()
            if e["node_id"]
        ]

    def still_listening(self) -> dict[tuple[str, int], int | None]:
        """Addresses the recorded processes listened on that something still listens on."""
        return still_listening(set(self.seen_listening))


# ---- a multi-node cluster on this machine --------------------------------------------------

# How long one `ray start` may take to print that its node runs (a loaded 2-core machine).
NODE_START_TIMEOUT_S = 120.0
# How long a node gets to stop after SIGTERM before its process group is SIGKILLed.
NODE_STOP_TIMEOUT_S = 30.0


@dataclass
class ClusterNode:
    """One node of a `Cluster`: a `ray start ... --block` process and everything it started,
    one process group of its own, listening on its own loopback address.

    Attributes:
        node_id: The node's id (bytes).
        node_ip_address: The address every process of the node listens on.
        is_head: Whether it runs the GCS.
        temp_dir: Its `--temp-dir`.
        session: Its session directory (under `temp_dir`).
        node_manager_address: HOST:PORT of its node manager.
        gcs_address: HOST:PORT of the cluster's GCS.
        token: The cluster token.
        popen: The `ray start --block` process (it leads the node's process group).
        output_path: Where that process's output goes.
    """

    node_id: bytes
    node_ip_address: str
    is_head: bool
    temp_dir: Path
    session: Any
    node_manager_address: str
    gcs_address: str
    token: str
    popen: subprocess.Popen
    output_path: Path

    @property
    def ip(self) -> str:
        return self.node_ip_address

    @property
    def pgid(self) -> int:
        """The node's process group (the `ray start` process leads it)."""
        return self.popen.pid

    @property
    def session_dir(self) -> Path:
        return self.session.session_dir

    @property
    def shm_dir(self) -> Path:
        """The node's object store in /dev/shm."""
        return self.session.shm_dir(self.node_id)

    def processes(self) -> list[psutil.Process]:
        """Every live process of the node: its process group and whatever those started."""
        procs = {p.pid: p for p in group_members(self.pgid)}
        for p in list(procs.values()):
            try:
                procs.update({c.pid: c for c in p.children(recursive=True)})
            except psutil.Error:
                continue
        return alive(procs.values())

    def output(self) -> str:
        try:
            return self.output_path.read_text(errors="replace")
        except OSError:
            return ""

    def __hash__(self) -> int:
        return hash(self.node_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterNode) and other.node_id == self.node_id


def _field(output: str, label: str) -> str:
    """The value after `label:` in `ray start`'s output (`  Node ID:  ab12...`)."""
    m = re.search(rf"^\s*{re.escape(label)}:\s+(\S+)", output, re.MULTILINE)
    if m is None:
        raise RuntimeError(f"`ray start` printed no {label!r} line:\n{output}")
    return m.group(1)


class Cluster:
    """A cluster of real nodes on this machine, each started as a user starts one.

    The head runs `ray start --head --port 0 --node-ip-address 127.0.0.1 --temp-dir D
    --block`; every further node `ray start --address <head> --node-ip-address
    127.0.0.K --temp-dir DK --block [--num-cpus ...]`, each in its own process group and
    its own session folder. The `ray` commands and the drivers of `driver_env()` see
    only this cluster (RAY_TMPDIR is `<root>/ray`). Shaped like Ray's
    `ray.cluster_utils.Cluster`; a driver in this process joins with `connect()`.

    Args:
        root: Where the nodes' temp dirs go (default: a new temporary directory, removed
            by `shutdown`).
        initialize_head: Start the head at once, with `head_node_args`.
        connect: Then connect this process to it.
        head_node_args: `add_node` arguments of the head.
    """

    def __init__(
        self,
        root: Path | None = None,
        initialize_head: bool = False,
        connect: bool = False,
        head_node_args: dict[str, Any] | None = None,
    ) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="ray-cluster-")) if root is None else Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ray_tmpdir = self.root / "ray"
        self.ray_tmpdir.mkdir(exist_ok=True)
        self.head: ClusterNode | None = None
        self.worker_nodes: list[ClusterNode] = []
        # Every node ever started, stopped or not: shutdown makes sure each is gone.
        self.all_started: list[ClusterNode] = []
        self._gcs_address: str | None = None
        self._token: str | None = None
        self._next_ip = 1
        self._connected = False
        self._saved_token_env: str | None = None
        self.seen_processes: list[psutil.Process] = []
        # Every TCP address a process of the cluster was seen listening on.
        self.seen_listening: dict[tuple[str, int], int] = {}
        if initialize_head or connect:
            self.add_node(**(head_node_args or {}))
            if connect:
                self.connect()

    # ---- what tests read ---------------------------------------------------------------

    @property
    def address(self) -> str:
        if self._gcs_address is None:
            raise RuntimeError("the cluster has no head node yet: call add_node() first")
        return self._gcs_address

    @property
    def gcs_address(self) -> str:
        return self.address

    @property
    def head_node(self) -> ClusterNode | None:
        return self.head

    @property
    def token(self) -> str:
        if self._token is None:
            raise RuntimeError("the cluster has no head node yet: call add_node() first")
        return self._token

    def list_all_nodes(self) -> list[ClusterNode]:
        """The nodes running (not removed or killed), head first."""
        return ([self.head] if self.head is not None else []) + list(self.worker_nodes)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `ray` command or driver on this machine that finds this
        cluster (`address="auto"`, the token by address) as its user would."""
        return cli_env(self.ray_tmpdir, **extra)

    def cli(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Runs `ray <args>` on this machine against this cluster's records."""
        result = subprocess.run(
            [*ray_command(), *args],
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(REPO_ROOT),
        )
        self.note_processes()
        return result

    # ---- nodes -------------------------------------------------------------------------

    def add_node(
        self,
        num_cpus: float | None = 1,
        num_gpus: float | None = 0,
        resources: dict[str, float] | None = None,
        object_store_memory: int | None = 100 * 1024**2,
        wait: bool = True,
        node_ip_address: str | None = None,
        **_ignored: Any,
    ) -> ClusterNode:
        """Starts a node with `ray start ... --block`; the first one is the head.

        Args:
            num_cpus, num_gpus, resources, object_store_memory: As `ray start` takes them
                (None: detected / default).
            wait: Wait until the GCS lists exactly the cluster's nodes alive.
            node_ip_address: Its address (default: the next of 127.0.0.1, 127.0.0.2, ...).

        Returns:
            The node's handle.

        Raises:
            RuntimeError: `ray start` failed or did not report in time (its output is quoted).
        """
        head = self.head is None and self._gcs_address is None
        ip = node_ip_address or self._take_ip()
        temp_dir = self.root / f"node{len(self.all_started)}-{ip}"
        args = ["start"]
        args += ["--head", "--port", "0"] if head else ["--address", self.address]
        args += ["--node-ip-address", ip, "--temp-dir", str(temp_dir), "--block"]
        if num_cpus is not None:
            args += ["--num-cpus", f"{num_cpus:g}"]
        if num_gpus is not None:
            args += ["--num-gpus", f"{num_gpus:g}"]
        if resources:
            args += ["--resources", json.dumps(resources)]
        if object_store_memory is not None:
            args += ["--object-store-memory", str(int(object_store_memory))]
        temp_dir.mkdir(parents=True, exist_ok=True)
        output_path = temp_dir / "ray-start.out"
        with open(output_path, "wb") as out:
            popen = subprocess.Popen(
                [*ray_command(), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=str(REPO_ROOT),
                start_new_session=True,
            )
        try:
            output = self._wait_started(popen, output_path)
            node = ClusterNode(
                node_id=bytes.fromhex(_field(output, "Node ID")),
                node_ip_address=ip,
                is_head=head,
                temp_dir=temp_dir,
                session=_session(Path(_field(output, "Session"))),
                node_manager_address=_field(output, "Node manager"),
                gcs_address=_field(output, "GCS address") if head else self.address,
                token="",
                popen=popen,
                output_path=output_path,
            )
            node.token = node.session.read_token()
        except BaseException:
            _kill_group(popen.pid)
            popen.wait(10)
            raise
        self.all_started.append(node)
        if head:
            self.head = node
            self._gcs_address, self._token = node.gcs_address, node.token
        else:
            self.worker_nodes.append(node)
        self.note_processes()
        if wait:
            self.wait_for_nodes()
        return node

    def _take_ip(self) -> str:
        ip = f"127.0.0.{self._next_ip}"
        self._next_ip += 1
        return ip

    @staticmethod
    def _wait_started(popen: subprocess.Popen, output_path: Path) -> str:
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        while True:
            output = output_path.read_text(errors="replace")
            if "\nBlocking:" in output:
                return output
            if popen.poll() is not None:
                raise RuntimeError(
                    f"`ray start` exited with code {popen.returncode}:\n{output_path.read_text()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"`ray start` did not report its node within {NODE_START_TIMEOUT_S:.0f}s:\n"
                    f"{output}"
                )
            time.sleep(0.05)

    def remove_node(self, node: ClusterNode, allow_graceful: bool = True) -> None:
        """Stops a node as Ctrl-C would (SIGTERM to its `ray start`): its node manager leaves
        the cluster, its workers and object store go. With `allow_graceful=False`, `kill_node`."""
        if not allow_graceful:
            self.kill_node(node)
            return
        self.note_processes()
        self._forget(node)
        self._stop([node])

    def kill_node(self, node: ClusterNode) -> None:
        """Loses a node as a machine is lost: SIGKILL to its whole process group at once.

        Nothing of it says goodbye: the GCS notices the missed heartbeats. Its /dev/shm
        directory, which a lost machine takes with it, is removed here.
        """
        self.note_processes()
        procs = node.processes()
        _kill_group(node.pgid)
        for proc in procs:  # anything that had left the group
            try:
                proc.kill()
            except psutil.Error:
                pass
        node.popen.wait(30)
        self._forget(node)
        wait_for_condition(
            lambda: not _group_alive(node.pgid) and not alive(procs),
            timeout=30,
        )
        shutil.rmtree(node.shm_dir, ignore_errors=True)

    def _forget(self, node: ClusterNode) -> None:
        if node is self.head:
            self.head = None
        elif node in self.worker_nodes:
            self.worker_nodes.remove(node)

    def _stop(self, nodes: list[ClusterNode]) -> None:
        """SIGTERM to each node's `ray start` (all at once), then SIGKILL to what is left."""
        for node in nodes:
            if node.popen.poll() is None:
                node.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + NODE_STOP_TIMEOUT_S
        for node in nodes:
            try:
                node.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            while _group_alive(node.pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            _kill_group(node.pgid)
            node.popen.wait(10)

    # ---- cluster state -----------------------------------------------------------------

    def gcs_client(self) -> Any:
        from ray._private.rpc.gcs_client import GcsClient

        return GcsClient(self.address, self.token)

    def alive_node_ids(self) -> set[bytes]:
        from ray._private.generated import common_pb2

        nodes = self.gcs_client().get_all_nodes(timeout_s=10)
        return {n.node_id for n in nodes if n.state == common_pb2.NODE_STATE_ALIVE}

    def wait_for_nodes(self, timeout: float = 60) -> None:
        """Waits until exactly the running nodes of this cluster are registered alive."""
        expected = {n.node_id for n in self.list_all_nodes()}
        seen: list[set[bytes]] = [set()]

        def registered() -> bool:
            seen[0] = self.alive_node_ids()
            return seen[0] == expected

        deadline = time.monotonic() + timeout
        while not registered():
            if time.monotonic() >= deadline:
                pytest.fail(
                    f"the GCS lists the nodes {sorted(i.hex()[:8] for i in seen[0])} alive after "
                    f"{timeout}s, expected {sorted(i.hex()[:8] for i in expected)}"
                )
            time.sleep(0.1)

    def connect(self, **init_kwargs: Any) -> Any:
        """`ray.init(address=...)` from this process, with the cluster's token."""
        import ray
        from ray._private import constants

        self._saved_token_env = os.environ.get(constants.TOKEN_ENV)
        os.environ[constants.TOKEN_ENV] = self.token
        self._connected = True
        return ray.init(address=self.address, **init_kwargs)

    # ---- teardown ----------------------------------------------------------------------

    def note_processes(self) -> None:
        known = {p.pid for p in self.seen_processes}
        procs = [p for node in self.all_started for p in node.processes()]
        self.seen_processes += [p for p in procs if p.pid not in known]
        self.seen_listening.update(listening_addresses(procs))

    def shutdown(self) -> None:
        """Disconnects the driver (if `connect` was used), stops the worker nodes, then the
        head, and removes what a killed node left (its process group, its /dev/shm)."""
        import ray
        from ray._private import constants

        self.note_processes()
        if self._connected:
            ray.shutdown()
            if self._saved_token_env is None:
                os.environ.pop(constants.TOKEN_ENV, None)
            else:
                os.environ[constants.TOKEN_ENV] = self._saved_token_env
            self._connected = False
        workers, self.worker_nodes = list(self.worker_nodes), []
        self._stop(workers)
        if self.head is not None:
            head, self.head = self.head, None
            self._stop([head])
        for node in self.all_started:
            _kill_group(node.pgid)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def leftovers(self, timeout: float = 15) -> list[str]:
        """What the cluster left behind after `shutdown`: live processes of its nodes'
        process groups, /dev/shm directories, TCP addresses still listened on. Waits up to
        `timeout` for them to go; empty when nothing is left."""
        deadline = time.monotonic() + timeout
        while True:
            problems = []
            groups = [n.pgid for n in self.all_started if _group_alive(n.pgid)]
            if groups:
                problems.append(
                    f"process groups still alive: {groups}:\n"
                    + describe(p for g in groups for p in group_members(g))
                )
            survivors = alive(self.seen_processes)
            if survivors:
                problems.append(f"processes still alive:\n{describe(survivors)}")
            shm = [str(n.shm_dir) for n in self.all_started if n.shm_dir.exists()]
            if shm:
                problems.append(f"/dev/shm entries left: {shm}")
            listening = still_listening(set(self.seen_listening))
            if listening:
                problems.append(f"addresses still listened on (address -> pid): {listening}")
            if not problems or time.monotonic() >= deadline:
                return problems
            time.sleep(0.1)


def still_listening(addresses: set[tuple[str, int]]) -> dict[tuple[str, int], int | None]:
    if not addresses:
        return {}
    out = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN:
            continue
        key = (conn.laddr.ip.removeprefix("::ffff:"), conn.laddr.port)
        if key in addresses:
            out[key] = conn.pid
    return out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _session(path: Path) -> Any:
    from ray._private.session import Session

    return Session(path)


def assert_same(actual: Any, expected: Any, where: str = "value") -> None:
    """Asserts exact equality: same types, float bits, array dtype/shape/bytes, map order."""
    assert type(actual) is type(expected), f"{where}: {type(actual)} != {type(expected)}"
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, where
        assert actual.shape == expected.shape, where
        assert actual.tobytes() == expected.tobytes(), where
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{index}]")
    elif isinstance(expected, dict):
        assert len(actual) == len(expected), where
        for (ak, av), (ek, ev) in zip(actual.items(), expected.items(), strict=True):
            assert_same(ak, ek, f"{where} key")
            assert_same(av, ev, f"{where}[{ek!r}]")
    elif isinstance(expected, float):
        assert struct.pack("<d", actual) == struct.pack("<d", expected), where
    else:
        assert actual == expected, where


class SignalActor:
    """An event tests hand to tasks and actors: `wait()` blocks until someone calls `send()`.

    Use as `ray.remote(num_cpus=0)(SignalActor).remote()`.
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self) -> None:
        await self.event.wait()

    async def send(self) -> None:
        self.event.set()
