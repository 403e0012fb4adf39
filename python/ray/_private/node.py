"""Starting the services of a node: the GCS (head only) and a node manager."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ray
from ray._private import constants, process
from ray._private.session import Session, create_session

logger = logging.getLogger(__name__)


def is_local_address(host: str) -> bool:
    """True if `host` is an address of this machine (it can be bound); on Linux every
    address in 127.0.0.0/8 is."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    for family, kind, proto, _, sockaddr in infos:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.bind((sockaddr[0], 0))
                return True
        except OSError:
            continue
    return False


def local_addresses() -> list[str]:
    """The IPv4 addresses of this machine's interfaces (for messages)."""
    import psutil

    out = []
    for addrs in psutil.net_if_addrs().values():
        out += [a.address for a in addrs if a.family == socket.AF_INET]
    return sorted(set(out))


def detect_num_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def detect_num_gpus() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def default_object_store_memory() -> int:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    size = int(total * constants.OBJECT_STORE_MEMORY_FRACTION)
    try:
        shm = shutil.disk_usage("/dev/shm")
        size = min(size, int(shm.free * 0.8))
    except OSError:
        pass
    return max(min(size, constants.OBJECT_STORE_MEMORY_CAP_BYTES), 64 * 1024**2)


def _cgroup_memory() -> tuple[int, int] | None:
    """(limit, in use less reclaimable page cache) of this process's cgroup, if it has a limit."""
    v2 = Path("/sys/fs/cgroup")
    v1 = v2 / "memory"
    candidates = (
        (v2 / "memory.max", v2 / "memory.current", v2 / "memory.stat", "inactive_file"),
        (
            v1 / "memory.limit_in_bytes",
            v1 / "memory.usage_in_bytes",
            v1 / "memory.stat",
            "total_inactive_file",
        ),
    )
    for limit_path, usage_path, stat_path, inactive_key in candidates:
        try:
            text = limit_path.read_text().strip()
            if text == "max":
                return None
            limit = int(text)
            usage = int(usage_path.read_text().strip())
        except (OSError, ValueError):
            continue
        inactive = 0
        try:
            for line in stat_path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == inactive_key:
                    inactive = int(value)
        except (OSError, ValueError):
            pass
        return limit, max(usage - inactive, 0)
    return None


def system_memory() -> int:
    """This machine's RAM in bytes, or its container's limit when lower (as upstream counts it)."""
    import psutil

    total = psutil.virtual_memory().total
    cgroup = _cgroup_memory()
    return min(total, cgroup[0]) if cgroup is not None else total


def estimate_available_memory() -> int:
    """The RAM not in use right now: the system's (or the container's) total less what is used."""
    import psutil

    cgroup = _cgroup_memory()
    used = psutil.virtual_memory().used
    if cgroup is not None:
        used = min(used, cgroup[1])
    return max(system_memory() - used, 0)


def default_memory(object_store_memory: int) -> int:
    """The `memory` resource of a node by default: as upstream, its available RAM less the store.

    Raises:
        ValueError: What is left is below 100 MB and below 5% of the machine's RAM.
    """
    system = system_memory()
    memory = estimate_available_memory() - object_store_memory
    if memory < 100e6 and memory < 0.05 * system:
        raise ValueError(
            f"After taking into account the object store ({object_store_memory / 1e9:.2f} GB), the "
            f"memory on this node left for tasks and actors ({memory / 1e9:.2f} GB) is less than 5% "
            "of its total. Give a smaller object store or the memory resource yourself: "
            "ray.init(_memory=<bytes>, object_store_memory=<bytes>) or "
            "ray start --memory <bytes> --object-store-memory <bytes>."
        )
    return int(memory)


def build_resources(
    num_cpus: float | None,
    num_gpus: float | None,
    resources: dict[str, float] | None,
    memory: int | None = None,
) -> dict[str, float]:
    """The total resources of a node, with CPUs and GPUs detected when not given.

    `memory` (bytes, rounded down) is the node's `memory` resource; None leaves it out
    (callers pass `default_memory(...)` for a node's default).

    Raises:
        ValueError: CPU or GPU given inside `resources`, or a negative amount.
    """
    resources = dict(resources or {})
    for name in ("CPU", "GPU"):
        if name in resources:
            raise ValueError(
                f"Use the num_{name.lower()}s argument instead of resources={{'{name}': ...}}"
            )
    out = {
        "CPU": float(detect_num_cpus() if num_cpus is None else num_cpus),
        "GPU": float(detect_num_gpus() if num_gpus is None else num_gpus),
    }
    if memory is not None:
        if not math.isfinite(memory) or memory < 0:
            raise ValueError(f"memory must be a number of bytes >= 0, got {memory}")
        out["memory"] = float(int(memory))
    out.update({k: float(v) for k, v in resources.items()})
    for name, value in out.items():
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"resource {name!r} must be a finite number >= 0, got {value}")
    return {k: v for k, v in out.items() if v > 0 or k == "CPU"}


@dataclass
class NodeProcesses:
    """The processes of one node this process started, and how to reach them."""

    session: Session
    token: str
    gcs_address: str
    node_manager_address: str
    node_id: bytes
    children: list[process.ChildProcess] = field(default_factory=list)
    _stopping: bool = False

    def stop(self) -> None:
        """Stops the node manager (and its workers), then the GCS."""
        self._stopping = True
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        self.remove_store_files()

    def remove_store_files(self) -> None:
        """Removes the node's /dev/shm directory (its node manager removes it when it can)."""
        shutil.rmtree(self.session.shm_dir(self.node_id), ignore_errors=True)

    def watch(self, on_node_manager_death: Callable[[str], None]) -> None:
        """Calls `on_node_manager_death(reason)` (once, soon) if the node manager dies.

        The store's shared memory it leaves behind is removed first.
        """
        nm = next((c for c in self.children if c.name == "node manager"), None)
        if nm is None:
            return

        def watch() -> None:
            while not self._stopping:
                code = nm.popen.poll()
                if code is not None:
                    if self._stopping:
                        return
                    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
                    self.remove_store_files()
                    on_node_manager_death(
                        f"The node manager of this node (pid {nm.pid}) died ({how}): its workers, "
                        "objects and leases are gone. Call ray.shutdown() and start again."
                    )
                    return
                time.sleep(0.2)

        threading.Thread(target=watch, name="node-manager-watch", daemon=True).start()


def start_node(
    resources: dict[str, float],
    object_store_memory: int,
    *,
    head: bool,
    session: Session | None = None,
    token: str | None = None,
    gcs_address: str | None = None,
    gcs_port: int = 0,
    node_manager_port: int = 0,
    host: str = "127.0.0.1",
    detached: bool = False,
    own_process_groups: bool = True,
    metrics_export_port: int = 0,
) -> NodeProcesses:
    """Starts a head node (GCS + node manager) or a worker node (node manager joining `gcs_address`).

    Every process of the node (GCS, node manager, and the workers the node manager
    starts) listens on `host` only.

    Args:
        resources: The node's total resources.
        object_store_memory: The store's capacity in bytes.
        head: Start a GCS too.
        session: The session directory (default: a new one, with a new token).
        token: The cluster token (required with `session`).
        gcs_address: The GCS to join (worker nodes).
        gcs_port: The GCS port (head; 0 = any free port).
        node_manager_port: The node manager port (0 = any free port).
        host: The node's address.
        detached: The processes outlive this one (`ray start`); otherwise they exit
            when this process does, however it ends.
        own_process_groups: Each service leads a process group of its own. Without
            it they stay in the caller's group, so the whole node is one process group
            (`ray start --block`: one group per node, as one terminal job).
        metrics_export_port: The HTTP port of the node's Prometheus metrics endpoint
            (0 = any free port).

    Returns:
        The node's processes.

    Raises:
        RuntimeError: A service did not start (its log is quoted).
    """
    if session is None:
        session, token = create_session()
    assert token is not None
    env = dict(os.environ)
    env[constants.TOKEN_ENV] = token
    env[process.NODE_IP_ENV] = host
    python_dir = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = (
        python_dir + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else python_dir
    )
    # The services do not use the driver API: `import ray` there loads it only when touched.
    env[ray.SERVICE_PROCESS_ENV] = "1"
    children: list[process.ChildProcess] = []
    node_id = os.urandom(28)
    try:
        # The node manager starts alongside the GCS and reads the GCS address from a pipe.
        addr_r = addr_w = -1
        if head:
            addr_r, addr_w = os.pipe()
        nm = process.spawn(
            "node manager",
            "ray._private.node_manager",
            [
                "--host",
                host,
                "--port",
                str(node_manager_port),
                *(
                    ["--gcs-address-fd", str(addr_r)]
                    if head
                    else ["--gcs-address", str(gcs_address)]
                ),
                "--session-dir",
                str(session.session_dir),
                "--resources",
                json.dumps(resources),
                "--object-store-memory",
                str(object_store_memory),
                "--node-id",
                node_id.hex(),
                *(["--head"] if head else []),
                "--metrics-export-port",
                str(metrics_export_port),
            ],
            session.logs_dir / f"node_manager-{node_id.hex()[:8]}.log",
            env=env,
            with_lifeline=not detached,
            new_group=own_process_groups,
            extra_fds=(addr_r,) if head else (),
        )
        children.append(nm)
        if head:
            os.close(addr_r)
            try:
                gcs = process.spawn(
                    "GCS",
                    "ray._private.gcs",
                    [
                        "--host",
                        host,
                        "--port",
                        str(gcs_port),
                        "--session-dir",
                        str(session.session_dir),
                    ],
                    session.logs_dir / "gcs.log",
                    env=env,
                    with_lifeline=not detached,
                    new_group=own_process_groups,
                )
                children.insert(0, gcs)
                gcs_address = f"{host}:{gcs.wait_ready()}"
                os.write(addr_w, f"{gcs_address}\n".encode())
            finally:
                os.close(addr_w)
        assert gcs_address is not None
        nm_address = f"{host}:{nm.wait_ready()}"
    except BaseException:
        for child in reversed(children):
            child.stop()
        raise
    return NodeProcesses(session, token, gcs_address, nm_address, node_id, children)
