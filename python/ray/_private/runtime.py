"""The process-wide runtime behind the public API: init, shutdown and the core worker."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ray._private import constants, metrics
from ray._private import object_ref as object_ref_mod
from ray._private.generated import common_pb2
from ray._private.rpc.gcs_client import GcsClient
from ray._private.runtime_env import validation as runtime_env_validation
from ray._private.runtime_env.process_env import ProcessEnv, uploader_for
from ray._private.worker.core_worker import CoreWorker, WorkerMode

if TYPE_CHECKING:
    # Starting and finding clusters (node, session) loads with ray.init(): workers never need it.
    from ray._private.node import NodeProcesses

logger = logging.getLogger(__name__)

_lock = threading.RLock()
_core_worker: CoreWorker | None = None
_node: NodeProcesses | None = None
_context: RayContext | None = None
_is_worker = False

# The default address of a driver's node (as `ray start --node-ip-address` defaults to).
_LOOPBACK = "127.0.0.1"
# How long a joining driver waits for its node to show up alive in the GCS.
_LOCAL_NODE_WAIT_S = 5.0


@dataclass
class RayContext:
    """What `ray.init()` returns: where the cluster is."""

    address_info: dict[str, Any]

    @property
    def address(self) -> str:
        return self.address_info["gcs_address"]

    def __getitem__(self, key: str) -> Any:
        return self.address_info[key]

    def __enter__(self) -> RayContext:
        return self

    def __exit__(self, *exc: object) -> None:
        shutdown()

    def disconnect(self) -> None:
        shutdown()


def attach_worker(cw: CoreWorker) -> None:
    """Used by worker processes: the API works inside tasks against this core worker."""
    global _core_worker, _is_worker
    _core_worker = cw
    _is_worker = True
    _report_metrics_to(cw)


def _report_metrics_to(cw: CoreWorker) -> None:
    """Sends this process's `ray.util.metrics` values to the node manager of `cw`."""
    metrics.connect(
        lambda records: cw.nm.report_metrics(
            records, cw.worker_id, timeout_s=constants.METRICS_REPORT_INTERVAL_S + 5.0
        )
    )


def is_initialized() -> bool:
    return _core_worker is not None


def core_worker() -> CoreWorker:
    """The core worker, starting a local cluster first if `ray.init()` was not called (as Ray does)."""
    cw = _core_worker
    if cw is None:
        init()
        cw = _core_worker
        assert cw is not None
    return cw


def _resolve_address(address: str | None) -> str | None:
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or None
    if address in ("local",):
        return None
    if address == "auto":
        from ray._private import session as session_mod

        current = session_mod.read_current_cluster()
        if current is None:
            raise ConnectionError(
                "ray.init(address='auto') found no running cluster on this machine; start one with "
                "`ray start --head` or call ray.init() without an address for a local one"
            )
        return current[0]
    if address and address.startswith("ray://"):
        address = address[len("ray://") :]
    return address


def init(
    address: str | None = None,
    *,
    num_cpus: float | None = None,
    num_gpus: float | None = None,
    resources: dict[str, float] | None = None,
    object_store_memory: int | None = None,
    namespace: str | None = None,
    ignore_reinit_error: bool = False,
    log_to_driver: bool = True,
    include_dashboard: bool | None = None,
    _node_ip_address: str | None = None,
    **kwargs: Any,
) -> RayContext:
    """Starts a local cluster, or connects to the one at `address` (see `ray.init`).

    A driver joining a cluster attaches to the node manager of its own node: the one
    at `_node_ip_address`, or by default this machine's node (the one at 127.0.0.1,
    else the head or another node whose address is this machine's).
    """
    global _core_worker, _node, _context
    with _lock:
        if _core_worker is not None:
            if _is_worker:
                return _context or RayContext({})
            if ignore_reinit_error:
                logger.info("Calling ray.init() again after it has already been called.")
                assert _context is not None
                return _context
            raise RuntimeError(
                "Maybe you called ray.init twice by accident? This error can be suppressed by "
                "passing in 'ignore_reinit_error=True' or by calling 'ray.shutdown()' prior to 'ray.init()'."
            )
        unknown = set(kwargs) - {
            "runtime_env",
            "logging_level",
            "configure_logging",
            "dashboard_host",
            "dashboard_port",
            "job_config",
            "_system_config",
            "_temp_dir",
            "local_mode",
            "_redis_password",
            "log_to_driver",
            "_plasma_directory",
            "_metrics_export_port",
            "_memory",
        }
        if unknown:
            raise TypeError(f"ray.init() got unexpected keyword argument(s): {sorted(unknown)}")
        job_runtime_env = kwargs.get("runtime_env")
        if job_runtime_env is None and kwargs.get("job_config") is not None:
            job_runtime_env = getattr(kwargs["job_config"], "runtime_env", None)
        # Refused fields fail before anything starts.
        job_runtime_env = runtime_env_validation.validate(job_runtime_env)
        gcs_address = _resolve_address(address)
        job_config = common_pb2.JobConfig(ray_namespace=namespace or "")
        if kwargs.get("job_config") is not None:
            _merge_job_config(job_config, kwargs["job_config"])
        from ray._private import session as session_mod
        from ray._private.node import (
            build_resources,
            default_memory,
            default_object_store_memory,
            start_node,
        )

        if gcs_address is None:
            store = object_store_memory or default_object_store_memory()
            memory = kwargs.get("_memory")
            total = build_resources(
                num_cpus,
                num_gpus,
                resources,
                memory=default_memory(store) if memory is None else memory,
            )
            if _node_ip_address is None:
                _node_ip_address = _LOOPBACK
            node = start_node(
                total,
                store,
                head=True,
                host=_node_ip_address,
                metrics_export_port=int(kwargs.get("_metrics_export_port") or 0),
            )
            token = node.token
            nm_address = node.node_manager_address
            node_id = node.node_id
            gcs_address = node.gcs_address
            session_dir = str(node.session.session_dir)
        else:
            if (
                num_cpus is not None
                or num_gpus is not None
                or resources
                or kwargs.get("_memory") is not None
            ):
                raise ValueError(
                    "When connecting to an existing cluster, num_cpus, num_gpus, resources and "
                    "_memory must not be given: they are set when the cluster's nodes start "
                    "(ray start --num-cpus ... --memory ...)"
                )
            node = None
            token = session_mod.find_token(gcs_address)
            if token is None:
                raise ConnectionError(
                    f"No token for the cluster at {gcs_address}: this machine did not start it with "
                    f"`ray start`. Set RAY_CLUSTER_TOKEN to the token printed by "
                    f"`ray token --address {gcs_address}` on the head's machine."
                )
            gcs = GcsClient(gcs_address, token)
            # A wrong address or token raises the rpc layer's error: a RayError (and a
            # ConnectionError) whose message names the address and the fix.
            info = gcs.get_cluster_info(timeout_s=10)
            session_dir = info.session_dir
            local = _local_node(gcs, gcs_address, _node_ip_address)
            nm_address = f"{local.node_manager_address}:{local.node_manager_port}"
            node_id = local.node_id
            _node_ip_address = local.node_manager_address
        cw = None
        try:
            cw = CoreWorker(
                WorkerMode.DRIVER,
                gcs_address,
                token,
                nm_address,
                node_id,
                session_dir,
                job_config,
                host=_node_ip_address,
                log_to_driver=log_to_driver,
            )
            # The job's packages are uploaded once, here; its tasks and actors inherit its env.
            cw.runtime_env = ProcessEnv.for_job(job_runtime_env, uploader_for(cw.gcs))
        except BaseException:
            if cw is not None:
                cw.shutdown()
            if node is not None:
                node.stop()
            raise
        _core_worker = cw
        _node = node
        _report_metrics_to(cw)
        object_ref_mod.set_core_worker(cw)
        if node is not None:
            node.watch(cw.node_died)
        _context = RayContext(
            {
                "gcs_address": gcs_address,
                "address": gcs_address,
                "node_id": node_id.hex(),
                "session_dir": session_dir,
                "namespace": cw.namespace,
                "job_id": cw.job_id.hex(),
            }
        )
        return _context


def _local_node(
    gcs: GcsClient, gcs_address: str, node_ip_address: str | None
) -> common_pb2.NodeInfo:
    """The alive node a driver on this machine attaches to.

    Given an address, the node there; by default the node at 127.0.0.1, else the head or
    another node whose address belongs to this machine. Waits a few seconds for a node
    that is still registering.

    Raises:
        ConnectionError: No such node is alive.
    """
    from ray._private.node import is_local_address

    wanted = node_ip_address or _LOOPBACK
    deadline = time.monotonic() + _LOCAL_NODE_WAIT_S
    while True:
        alive = [n for n in gcs.get_all_nodes() if n.state == common_pb2.NODE_STATE_ALIVE]
        match = [n for n in alive if n.node_manager_address == wanted]
        if not match and node_ip_address is None:
            match = [n for n in alive if is_local_address(n.node_manager_address)]
        if match:
            return min(
                match, key=lambda n: (not n.is_head, n.node_manager_address, n.node_manager_port)
            )
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    seen = ", ".join(sorted({n.node_manager_address for n in alive})) or "none"
    if node_ip_address is None:
        raise ConnectionError(
            f"ray.init(address={gcs_address!r}): no node of that cluster runs on this machine "
            f"(alive nodes at: {seen}). Start one here with `ray start --address {gcs_address} "
            f"--node-ip-address <this machine's IP>`, or pass _node_ip_address=<the address of "
            f"this machine's node>."
        )
    raise ConnectionError(
        f"ray.init(address={gcs_address!r}, _node_ip_address={node_ip_address!r}): no alive node "
        f"of that cluster runs at {node_ip_address} (alive nodes at: {seen}). Start one with "
        f"`ray start --address {gcs_address} --node-ip-address {node_ip_address}`, or give the "
        f"address of the node on this machine."
    )


def _merge_job_config(config: common_pb2.JobConfig, job_config: Any) -> None:
    """Takes what a `ray.job_config.JobConfig`-like object says (code search path, JVM options)."""
    for entry in getattr(job_config, "code_search_path", None) or []:
        config.code_search_path.append(os.path.abspath(entry))
    for option in getattr(job_config, "jvm_options", None) or []:
        config.jvm_options.append(option)
    namespace = getattr(job_config, "ray_namespace", None)
    if namespace and not config.ray_namespace:
        config.ray_namespace = namespace


def shutdown(_exiting_interpreter: bool = False) -> None:
    """Disconnects the driver and stops every process `ray.init()` started."""
    global _core_worker, _node, _context
    with _lock:
        if _is_worker:
            return
        cw, node = _core_worker, _node
        _core_worker = _node = _context = None
        if cw is not None:
            metrics.disconnect()
            cw.shutdown()
        object_ref_mod.set_core_worker(None)
        if node is not None:
            node.stop()


atexit.register(shutdown, True)
