"""The node manager's core: leases (decided by the node's `NodeScheduler`) and the worker pool
under one lock; the object store (`NodeObjects`) under a lock of its own."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ray._private import constants, ids
from ray._private.generated import common_pb2, gcs_pb2, node_manager_pb2
from ray._private.node_manager.bundle_reservations import BundleReservations
from ray._private.node_manager.client_sessions import ClientSessions
from ray._private.node_manager.metrics_export import MetricsTable, metric_tags
from ray._private.node_manager.node_objects import NodeObjects
from ray._private.node_manager.object_transfer import NodeAddresses, ObjectTransfer
from ray._private.node_manager.worker_pool import WorkerPool, WorkerProcess, WorkerState
from ray._private.object_store import ObjectStore
from ray._private.rpc.core_worker_client import CoreWorkerClients
from ray._private.rpc.gcs_client import GcsClient
from ray._private.scheduling.node_scheduler import (
    Decision,
    Grant,
    NodeScheduler,
    QueuedLease,
    Reject,
    Spill,
    StartWorkers,
)
from ray._private.scheduling.resources import Allocation, NodeResources, to_fixed

logger = logging.getLogger(__name__)

# Worker output is published in batches: what arrived within this period goes in one message.
LOG_FLUSH_PERIOD_S = 0.05

# Exit causes kept for GetWorkerFailureCause.
MAX_REMEMBERED_FAILURES = 1000


@dataclass
class Lease:
    lease_id: bytes
    worker: WorkerProcess
    alloc: Allocation
    job_id: bytes
    actor_id: bytes
    requester: common_pb2.Address | None = None
    # CPUs (plain or a placement group bundle's) lent while the worker blocks in `get`.
    lent_cpu: dict[str, int] = field(default_factory=dict)


@dataclass
class Waiter:
    """A lease request waiting for its reply (the payload of its `QueuedLease`)."""

    request: node_manager_pb2.RequestWorkerLeaseRequest
    event: threading.Event = field(default_factory=threading.Event)
    reply: node_manager_pb2.RequestWorkerLeaseReply | None = None

    def answer(self, reply: node_manager_pb2.RequestWorkerLeaseReply) -> None:
        self.reply = reply
        self.event.set()


class NodeManager:
    """Grants worker leases against the node's resources and runs its object store."""

    def __init__(
        self,
        node_id: bytes,
        session_dir: Path,
        token: str,
        gcs: GcsClient,
        resources: dict[str, float],
        object_store_memory: int,
        host: str,
        is_head: bool,
        prestart_workers: int,
    ) -> None:
        self.node_id = node_id
        self.session_dir = session_dir
        self.host = host
        self.port = 0
        self.is_head = is_head
        self.gcs = gcs
        self.total_resources = dict(resources)
        self.object_store_memory = object_store_memory
        self._lock = threading.RLock()
        self._leases: dict[bytes, Lease] = {}
        self._granted: OrderedDict[bytes, node_manager_pb2.RequestWorkerLeaseReply] = OrderedDict()
        self._failures: OrderedDict[bytes, common_pb2.WorkerExitInfo] = OrderedDict()
        self._exit_events: dict[bytes, threading.Event] = {}
        self._prestart = prestart_workers
        self._visible_gpus = _visible_gpu_ids()
        self.scheduler = NodeScheduler(
            node_id, NodeResources(resources), max(4, int(resources.get("CPU", 1)))
        )
        self.resources = self.scheduler.resources
        self.bundles = BundleReservations(self.resources)
        self.pool = WorkerPool(
            lambda: self.port,
            gcs.address,
            node_id,
            session_dir,
            token,
            self._on_worker_exit,
            self._on_worker_output,
        )
        name = session_dir.name
        store = ObjectStore(
            str(Path("/dev/shm") / f"ray_{name[-26:]}_{node_id.hex()[:8]}"),
            str(session_dir / "spill" / node_id.hex()[:12]),
            object_store_memory,
        )
        self.store_dir = store.shm_dir
        self._workers = CoreWorkerClients(token)
        # The store has a lock of its own: a copy or a spill never stalls leasing.
        self.objects = NodeObjects(
            store,
            lambda worker_id: worker_id in self.pool.workers,
            lambda address: self._workers.get(address).is_gone(timeout_s=1.0),
        )
        nodes = NodeAddresses(lambda: gcs.get_all_nodes(timeout_s=5.0))
        self.transfer = ObjectTransfer(
            node_id, self.objects, nodes.resolve, token, forget_node=nodes.forget
        )
        self._logs: list[gcs_pb2.PubMessage] = []
        self._logs_lock = threading.Lock()
        # Set when worker output is waiting to be published (and at stop).
        self._logs_waiting = threading.Event()
        # Held across a publish, so batches reach the GCS in the order they were read.
        self._publish_lock = threading.Lock()
        self.stopped = threading.Event()
        self._token = token
        self.sessions: ClientSessions | None = None
        # Application metrics the node's processes report; served by a MetricsExporter.
        self.metric_tags = metric_tags(host, session_dir.name)
        self.metrics = MetricsTable(self.metric_tags)
        self.metrics_export_port = 0

    # ---- lifecycle -------------------------------------------------------------------

    def start(self, port: int) -> None:
        self.port = port
        self.sessions = ClientSessions(
            self.gcs.address,
            f"{self.host}:{port}",
            self.node_id,
            self.session_dir,
            self.host,
            self._token,
        )
        with self._lock:
            for _ in range(self._prestart):
                self.pool.start_worker()
            self.scheduler.starting += self._prestart
        info = common_pb2.NodeInfo(
            node_id=self.node_id,
            node_manager_address=self.host,
            node_manager_port=port,
            state=common_pb2.NODE_STATE_ALIVE,
            is_head=self.is_head,
            object_store_memory_bytes=self.object_store_memory,
            node_name=self.host,
            metrics_export_port=self.metrics_export_port,
        )
        info.resources.total.update(self.total_resources)
        info.resources.available.update(self.total_resources)
        self.gcs.register_node(info)
        for target, name in (
            (self._heartbeat_loop, "heartbeat"),
            (self._log_flush_loop, "log-flush"),
            (self._reaper_loop, "reaper"),
        ):
            threading.Thread(target=target, name=name, daemon=True).start()

    def stop(self, reason: str) -> None:
        if self.stopped.is_set():
            return
        self.stopped.set()
        self._logs_waiting.set()
        logger.info("node manager stopping: %s", reason)
        with self._lock:
            for queued in self.scheduler.queue:
                queued.payload.answer(node_manager_pb2.RequestWorkerLeaseReply(canceled=True))
            self.scheduler.queue.clear()
        self.pool.stop_all()
        if self.sessions is not None:
            self.sessions.stop_all()
        self._flush_logs()
        try:
            self.gcs.unregister_node(self.node_id, reason)
        except Exception as err:  # noqa: BLE001 - the GCS may be gone already
            logger.debug("unregister failed: %s", err)
        self.objects.shutdown()

    # ---- leases ----------------------------------------------------------------------

    def _device_id(self, name: str, index: int) -> int:
        """The id a worker sees for instance `index`: the node's own CUDA_VISIBLE_DEVICES entry, as in Ray."""
        if name == "GPU" and index < len(self._visible_gpus):
            return self._visible_gpus[index]
        return index

    def request_lease(
        self, request: node_manager_pb2.RequestWorkerLeaseRequest
    ) -> node_manager_pb2.RequestWorkerLeaseReply:
        """Blocks until the lease is granted, spilled, rejected, or the request times out."""
        waiter = Waiter(request)
        self._refresh_view_for(request.scheduling_strategy)
        with self._lock:
            done = self._granted.get(request.lease_id)
            if done is not None:
                return done
            need = to_fixed(request.resources)
            queued = QueuedLease(
                request.lease_id,
                need,
                _union(need, to_fixed(request.placement_resources)),
                request.scheduling_strategy,
                may_spill=not request.grant_or_reject,
                backlog=request.backlog,
                kind="actor" if request.actor_id else "task",
                env=request.serialized_runtime_env,
                payload=waiter,
            )
            self._apply(self.scheduler.request(queued))
        timeout = request.timeout_ms / 1000 if request.timeout_ms > 0 else constants.LONG_POLL_S
        waiter.event.wait(timeout)
        with self._lock:
            if waiter.reply is None:
                self.scheduler.cancel(request.lease_id)
                return node_manager_pb2.RequestWorkerLeaseReply()
            return waiter.reply

    def _refresh_view_for(self, strategy: common_pb2.SchedulingStrategy) -> None:
        """Asks the GCS for the nodes when a request names one this node has not heard of yet.

        The view comes with heartbeats, so a node that joined a moment ago is not in it; a
        request pinned to that node must not be refused as "not alive" for that.
        """
        if strategy.WhichOneof("kind") != "node_affinity":
            return
        target = strategy.node_affinity.node_id
        with self._lock:
            if target == self.node_id or target in self.scheduler.view.nodes:
                return
        try:
            infos = self.gcs.get_all_nodes(timeout_s=5.0)
        except Exception as err:  # noqa: BLE001 - the heartbeat's view stands
            logger.debug("cannot refresh the node view: %s", err)
            return
        with self._lock:
            self._apply(self.scheduler.view_changed(infos))

    def cancel_lease(self, lease_id: bytes) -> bool:
        with self._lock:
            queued = self.scheduler.cancel(lease_id)
            if queued is None:
                return False
            queued.payload.answer(node_manager_pb2.RequestWorkerLeaseReply(canceled=True))
            return True

    def return_worker(self, lease_id: bytes, disconnect: bool) -> None:
        with self._lock:
            lease = self._leases.pop(lease_id, None)
            self._granted.pop(lease_id, None)
            if lease is None:
                return
            decisions = self._release(lease)
            worker = lease.worker
            if worker.state == WorkerState.LEASED:
                worker.lease_id = b""
                if disconnect or lease.actor_id:
                    self._kill(worker, force=False)
                else:
                    worker.state = WorkerState.IDLE
                    worker.idle_since = time.monotonic()
                    decisions += self.scheduler.worker_idle(worker.worker_id)
            self._apply(decisions)

    def _release(self, lease: Lease) -> list[Decision]:
        for name, amount in lease.lent_cpu.items():
            self.resources.reclaim(name, amount)
        lease.lent_cpu = {}
        return self.scheduler.release(lease.alloc)

    def _apply(self, decisions: list[Decision]) -> None:
        """Carries out the scheduler's decisions. Lock held."""
        for decision in decisions:
            if isinstance(decision, Grant):
                self._grant(decision)
            elif isinstance(decision, StartWorkers):
                for _ in range(decision.count):
                    self.pool.start_worker(decision.env)
            elif isinstance(decision, Spill):
                reply = node_manager_pb2.RequestWorkerLeaseReply()
                reply.spillback_node.CopyFrom(decision.node.info)
                decision.lease.payload.answer(reply)
            elif isinstance(decision, Reject):
                decision.lease.payload.answer(
                    node_manager_pb2.RequestWorkerLeaseReply(
                        infeasible=decision.infeasible, error=decision.error
                    )
                )
            else:  # pragma: no cover - a new decision without a handler
                raise AssertionError(f"unhandled decision {decision!r}")

    def _grant(self, grant: Grant) -> None:
        request = grant.lease.payload.request
        worker = self.pool.workers[grant.worker_id]
        lease = Lease(request.lease_id, worker, grant.alloc, request.job_id, request.actor_id)
        if request.HasField("requester_address"):
            lease.requester = request.requester_address
        worker.state = WorkerState.LEASED
        worker.lease_id = lease.lease_id
        worker.actor_id = request.actor_id
        self._leases[lease.lease_id] = lease
        reply = node_manager_pb2.RequestWorkerLeaseReply(
            worker_address=self._worker_address(worker), worker_pid=worker.pid
        )
        for name, picked in grant.alloc.instances.items():
            # A placement group bundle's GPUs (`GPU_group_...`) are the node's GPUs.
            base = "GPU" if name.startswith("GPU_group_") else name
            ids_msg = reply.resource_ids[base]
            for index, share in picked:
                ids_msg.ids.add(index=self._device_id(base, index), quantity=share / 10_000)
        self._granted[lease.lease_id] = reply
        while len(self._granted) > 10_000:
            self._granted.popitem(last=False)
        grant.lease.payload.answer(reply)

    def _worker_address(self, worker: WorkerProcess) -> common_pb2.Address:
        return common_pb2.Address(
            node_id=self.node_id, ip_address=self.host, port=worker.port, worker_id=worker.worker_id
        )

    def register_worker(self, request: node_manager_pb2.RegisterWorkerRequest) -> bool:
        with self._lock:
            worker = self.pool.workers.get(request.worker_id)
            if worker is None or worker.startup_token != request.startup_token:
                return False
            worker.port = request.port
            if worker.state == WorkerState.STARTING:
                worker.state = WorkerState.IDLE
                worker.idle_since = time.monotonic()
                self._apply(self.scheduler.worker_registered(worker.worker_id, worker.runtime_env))
            return True

    def notify_blocked(self, worker_id: bytes, blocked: bool) -> None:
        with self._lock:
            worker = self.pool.workers.get(worker_id)
            if worker is None or worker.state != WorkerState.LEASED:
                return
            lease = self._leases.get(worker.lease_id)
            if lease is None or blocked == worker.blocked:
                return
            worker.blocked = blocked
            cpu = {
                name: amount
                for name, amount in lease.alloc.amounts.items()
                if name == "CPU" or name.startswith("CPU_group_")
            }
            if blocked and cpu:
                for name, amount in cpu.items():
                    self.resources.lend(name, amount)
                lease.lent_cpu = cpu
                self._apply(self.scheduler.schedule())
            elif not blocked and lease.lent_cpu:
                for name, amount in lease.lent_cpu.items():
                    self.resources.reclaim(name, amount)
                lease.lent_cpu = {}

    # ---- placement group bundles -----------------------------------------------------

    def prepare_bundles(self, bundles: list[common_pb2.Bundle]) -> None:
        """Raises BundleError when they do not fit now."""
        with self._lock:
            self.bundles.prepare(bundles)

    def commit_bundles(self, placement_group_id: bytes, indexes: list[int]) -> None:
        """Raises BundleError for a bundle that was not prepared."""
        with self._lock:
            self.bundles.commit(placement_group_id, indexes)
            self._apply(self.scheduler.schedule())

    def return_bundles(self, placement_group_id: bytes, indexes: list[int]) -> None:
        """Gives bundles back; the workers holding their resources are killed."""
        with self._lock:
            gone = set(self.bundles.give_back(placement_group_id, indexes))
            doomed = [
                lease.worker
                for lease in self._leases.values()
                if gone and not gone.isdisjoint(lease.alloc.amounts)
            ]
            for worker in doomed:
                self._kill(worker, force=True)
            self._apply(self.scheduler.schedule())
        if doomed:
            logger.info(
                "placement group %s removed: killed %d worker(s) in its bundles",
                placement_group_id.hex()[:12],
                len(doomed),
            )

    # ---- worker exits ----------------------------------------------------------------

    def _on_worker_exit(self, worker: WorkerProcess) -> None:
        info = worker.exit_info
        assert info is not None
        with self._lock:
            was_state = worker.state
            worker.state = WorkerState.DEAD
            self.pool.workers.pop(worker.worker_id, None)
            lease = self._leases.pop(worker.lease_id, None) if worker.lease_id else None
            decisions = []
            if lease is not None:
                self._granted.pop(lease.lease_id, None)
                decisions = self._release(lease)
            self._failures[worker.worker_id] = info
            while len(self._failures) > MAX_REMEMBERED_FAILURES:
                self._failures.popitem(last=False)
            event = self._exit_events.pop(worker.worker_id, None)
            decisions += self.scheduler.worker_gone(
                worker.worker_id,
                was_starting=was_state == WorkerState.STARTING,
                env=worker.runtime_env,
                failure=f"The last one {info.description}: {info.stderr_tail[-2000:]}",
            )
            if not self.stopped.is_set():
                self._apply(decisions)
        if event is not None:
            event.set()
        if self.stopped.is_set():
            return
        self.objects.process_died(worker.worker_id)
        if not info.intended:
            logger.warning("worker %d (%s) %s", worker.pid, was_state.value, info.description)
        if was_state == WorkerState.LEASED or worker.actor_id:
            report = gcs_pb2.ReportWorkerFailureRequest(
                node_id=self.node_id,
                worker_address=self._worker_address(worker),
                exit_info=info,
                actor_id=worker.actor_id,
            )
            try:
                self.gcs.report_worker_failure(report)
            except Exception as err:  # noqa: BLE001 - best effort
                logger.debug("could not report worker failure: %s", err)

    def failure_cause(self, worker_id: bytes, timeout_s: float) -> common_pb2.WorkerExitInfo | None:
        with self._lock:
            info = self._failures.get(worker_id)
            if info is not None:
                return info
            if worker_id not in self.pool.workers:
                return None
            event = self._exit_events.setdefault(worker_id, threading.Event())
        event.wait(timeout_s)
        with self._lock:
            return self._failures.get(worker_id)

    def kill_worker(self, worker_id: bytes, force: bool) -> None:
        with self._lock:
            worker = self.pool.workers.get(worker_id)
            if worker is not None:
                self._kill(worker, force)

    def _kill(self, worker: WorkerProcess, force: bool) -> None:
        worker.exit_intended = True
        worker.close_lifeline()
        if force:
            try:
                worker.popen.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass

    # ---- objects ---------------------------------------------------------------------

    def stats(self) -> node_manager_pb2.GetNodeStatsReply:
        store = self.objects.stats()
        with self._lock:
            total, available = self.resources.snapshot()
            workers = list(self.pool.workers.values())
            reply = node_manager_pb2.GetNodeStatsReply(
                node_id=self.node_id,
                num_workers=len(workers),
                num_idle_workers=sum(1 for w in workers if w.state == WorkerState.IDLE),
                worker_pids=[w.pid for w in workers],
                object_store_used_bytes=store.used_bytes,
                object_store_capacity_bytes=store.capacity_bytes,
                num_objects=store.num_objects,
                num_spilled_objects=store.num_spilled,
                spilled_bytes=store.spilled_bytes,
                num_pending_leases=len(self.scheduler.queue),
                num_evicted_objects=store.num_evicted,
                num_freed_for_dead_owners=self.objects.num_freed_for_dead_owners,
                num_aborted_objects=self.objects.num_aborted,
            )
            reply.resources.total.update(total)
            reply.resources.available.update(available)
            return reply

    # ---- background loops ------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        unreachable_since = None
        limit = constants.GCS_GRACE_S
        while not self.stopped.wait(constants.HEARTBEAT_PERIOD_S):
            with self._lock:
                _, available = self.resources.snapshot()
                demand = self.scheduler.demand()
            try:
                view = self.gcs.report_heartbeat(self.node_id, available, demand)
                if unreachable_since is not None:
                    logger.warning("the GCS answers again")
                unreachable_since = None
            except Exception as err:  # noqa: BLE001 - retried next period
                now = time.monotonic()
                if unreachable_since is None:
                    unreachable_since = now
                    logger.warning(
                        "the GCS does not answer (%s); the node keeps working for %.0fs", err, limit
                    )
                if now - unreachable_since > limit:
                    logger.error("the GCS has been unreachable for %.0fs; stopping the node", limit)
                    self._request_exit()
                    return
                continue
            if view is None:
                logger.error("the GCS declared this node dead; exiting")
                self._request_exit()
                return
            with self._lock:
                self._apply(self.scheduler.view_changed(view))

    def _request_exit(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    def _check_requesters(self) -> None:
        """Ends leases whose holder (a driver or worker) died: their workers are killed."""
        with self._lock:
            holders: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
            for lease in self._leases.values():
                if lease.requester is not None and lease.requester.port:
                    holders.setdefault(lease.requester.worker_id, (lease.requester, []))[1].append(
                        lease.lease_id
                    )
        for address, lease_ids in holders.values():
            if self._workers.get(address).is_gone():
                logger.info(
                    "lease holder %s:%d is gone; ending its %d lease(s)",
                    address.ip_address,
                    address.port,
                    len(lease_ids),
                )
                for lease_id in lease_ids:
                    self.return_worker(lease_id, disconnect=True)

    def _reaper_loop(self) -> None:
        """Lets idle workers above the prestarted pool exit; ends leases of dead holders."""
        rounds = 0
        while not self.stopped.wait(1.0):
            rounds += 1
            try:
                self.objects.sweep()
            except Exception:  # noqa: BLE001 - retried next round
                logger.exception("object owner sweep failed")
            if rounds % 3 == 0:
                try:
                    self._check_requesters()
                except Exception:  # noqa: BLE001 - retried next round
                    logger.exception("lease holder check failed")
            now = time.monotonic()
            with self._lock:
                live = [w for w in self.pool.workers.values() if not w.actor_id]
                idle = sorted(
                    (w for w in live if w.state == WorkerState.IDLE), key=lambda w: w.idle_since
                )
                excess = len(live) - self._prestart
                for w in idle:
                    if excess <= 0:
                        break
                    if now - w.idle_since > constants.IDLE_WORKER_KILL_S:
                        self.scheduler.take_idle(w.worker_id)
                        w.state = WorkerState.DEAD
                        self._kill(w, force=False)
                        excess -= 1

    def _on_worker_output(self, worker: WorkerProcess, is_err: bool, lines: list[str]) -> None:
        msg = gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_LOGS)
        batch = msg.log_batch
        batch.node_id = self.node_id
        batch.pid = worker.pid
        batch.task_name = worker.task_name
        batch.is_stderr = is_err
        batch.job_id = worker.job_id
        batch.lines.extend(lines)
        with self._logs_lock:
            self._logs.append(msg)
        self._logs_waiting.set()

    def flush_worker_output(self, job_id: bytes, timeout_s: float) -> int:
        """Reads what the workers of `job_id` wrote so far and publishes it before returning.

        Returns:
            The number of lines this call read from the workers' pipes.
        """
        deadline = time.monotonic() + timeout_s
        count = self.pool.drain(job_id, deadline)
        self._flush_logs(timeout_s=max(deadline - time.monotonic(), 0.1))
        return count

    def _flush_logs(self, timeout_s: float = 5.0) -> None:
        with self._publish_lock:
            self._publish_logs(timeout_s)

    def _publish_logs(self, timeout_s: float) -> None:
        with self._logs_lock:
            logs, self._logs = self._logs, []
        if not logs:
            return
        merged: list[gcs_pb2.PubMessage] = []
        for msg in logs:
            last = merged[-1].log_batch if merged else None
            b = msg.log_batch
            if last is not None and (last.pid, last.task_name, last.is_stderr, last.job_id) == (
                b.pid,
                b.task_name,
                b.is_stderr,
                b.job_id,
            ):
                last.lines.extend(b.lines)
            else:
                merged.append(msg)
        try:
            self.gcs.publish(merged, timeout_s=timeout_s)
        except Exception as err:  # noqa: BLE001 - logs are best effort
            logger.debug("could not publish logs: %s", err)

    def _log_flush_loop(self) -> None:
        # Sleeps until output arrives, then publishes what came within one flush period.
        while True:
            self._logs_waiting.wait()
            if self.stopped.wait(LOG_FLUSH_PERIOD_S):
                return
            self._logs_waiting.clear()
            self._flush_logs()


def _visible_gpu_ids() -> list[int]:
    """The devices listed in this process's CUDA_VISIBLE_DEVICES (empty if unset or not numeric)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    entries = [d.strip() for d in visible.split(",") if d.strip()]
    if not entries or not all(d.isdigit() for d in entries):
        return []
    return [int(d) for d in entries]


def _union(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = max(out.get(k, 0), v)
    return out


def new_node_id() -> bytes:
    return ids.new_unique_id()
