"""Helpers shared by the tests: polling, leak checks, drivers in subprocesses and a local cluster.

Tests import these with `from utils import ...` (pytest puts `tests/` on `sys.path`).
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
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


# ---- a local multi-node cluster ----------------------------------------------------------------


class Cluster:
    """A cluster of real local nodes: the first `add_node` starts the head (GCS + node manager).

    Shaped like Ray's `ray.cluster_utils.Cluster`; drivers join it with
    `cluster.connect()` (that is, `ray.init(address=cluster.address)` with its token).
    """

    def __init__(self) -> None:
        self.head: Any = None
        self.worker_nodes: list[Any] = []
        self._session: Any = None
        self._token: str | None = None
        self._gcs_address: str | None = None
        self._connected = False
        self._saved_token_env: str | None = None
        self.seen_processes: list[psutil.Process] = []

    @property
    def address(self) -> str:
        if self._gcs_address is None:
            raise RuntimeError("the cluster has no head node yet: call add_node() first")
        return self._gcs_address

    @property
    def gcs_address(self) -> str:
        return self.address

    @property
    def token(self) -> str:
        assert self._token is not None
        return self._token

    def list_all_nodes(self) -> list[Any]:
        return ([self.head] if self.head is not None else []) + list(self.worker_nodes)

    def add_node(
        self,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: dict[str, float] | None = None,
        object_store_memory: int = 100 * 1024**2,
        wait: bool = True,
        **_ignored: Any,
    ) -> Any:
        """Starts a node; the first one is the head.

        Returns:
            The node's handle (a `NodeProcesses` with `node_id`), for `remove_node`.
        """
        from ray._private.node import build_resources, start_node

        total = build_resources(num_cpus, num_gpus, resources)
        if self.head is None:
            node = start_node(total, object_store_memory, head=True)
            self.head = node
            self._session, self._token, self._gcs_address = (
                node.session,
                node.token,
                node.gcs_address,
            )
        else:
            node = start_node(
                total,
                object_store_memory,
                head=False,
                gcs_address=self._gcs_address,
                session=self._session,
                token=self._token,
            )
            self.worker_nodes.append(node)
        self._note_processes()
        if wait:
            self.wait_for_nodes()
        return node

    def remove_node(self, node: Any) -> None:
        """Stops a node's processes (its workers with it)."""
        self._note_processes()
        node.stop()
        if node is self.head:
            self.head = None
        elif node in self.worker_nodes:
            self.worker_nodes.remove(node)

    def alive_node_ids(self) -> set[bytes]:
        from ray._private.generated import common_pb2
        from ray._private.rpc.gcs_client import GcsClient

        gcs = GcsClient(self.address, self.token)
        return {n.node_id for n in gcs.get_all_nodes() if n.state == common_pb2.NODE_STATE_ALIVE}

    def wait_for_nodes(self, timeout: float = 30) -> None:
        """Waits until exactly the nodes of this cluster are registered alive with the GCS."""
        expected = {n.node_id for n in self.list_all_nodes()}

        def registered() -> bool | set[bytes]:
            ids = self.alive_node_ids()
            return ids == expected or {i.hex()[:8] for i in ids}

        got = wait_for_condition(registered, timeout=timeout, retry_interval_ms=100)
        assert got is True, f"alive nodes {got}, expected {[i.hex()[:8] for i in expected]}"

    def connect(self, **init_kwargs: Any) -> Any:
        """`ray.init(address=...)` to this cluster."""
        import ray
        from ray._private import constants

        self._saved_token_env = os.environ.get(constants.TOKEN_ENV)
        os.environ[constants.TOKEN_ENV] = self.token
        self._connected = True
        return ray.init(address=self.address, **init_kwargs)

    def _note_processes(self) -> None:
        known = {p.pid for p in self.seen_processes}
        self.seen_processes += [p for p in child_processes() if p.pid not in known]

    def shutdown(self) -> None:
        """Disconnects the driver (if `connect` was used) and stops every node, head last."""
        import ray
        from ray._private import constants

        self._note_processes()
        if self._connected:
            ray.shutdown()
            if self._saved_token_env is None:
                os.environ.pop(constants.TOKEN_ENV, None)
            else:
                os.environ[constants.TOKEN_ENV] = self._saved_token_env
            self._connected = False
        for node in reversed(self.worker_nodes):
            node.stop()
        self.worker_nodes.clear()
        if self.head is not None:
            self.head.stop()
            self.head = None


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
