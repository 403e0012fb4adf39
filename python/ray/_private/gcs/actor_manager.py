"""The actor directory of the GCS: creates actors, keeps them alive, names them.

Each actor moves PENDING_CREATION -> ALIVE -> (RESTARTING -> ALIVE)* -> DEAD.
Creating one means leasing a dedicated worker from a node manager and running
the creation task on it; both happen on a thread of their own, so CreateActor
returns at once and callers queue their calls until the actor is ALIVE.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ray._private import constants, ids, serialization
from ray._private.generated import common_pb2, core_worker_pb2, gcs_pb2, node_manager_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.core_worker_client import CoreWorkerClient
from ray._private.rpc.node_manager_client import NodeManagerClient
from ray._private.scheduling.policy import ClusterView
from ray._private.scheduling.resources import to_fixed

logger = logging.getLogger(__name__)

_WAITABLE = (gcs_pb2.ACTOR_STATE_PENDING_CREATION, gcs_pb2.ACTOR_STATE_RESTARTING)


class NameTakenError(Exception):
    """A live actor already has the name in its namespace."""


# Lease requests for actors in flight to one node at a time (more actors wait in the GCS).
MAX_LEASES_PER_NODE = 4


@dataclass
class _Actor:
    info: gcs_pb2.ActorInfo
    spec: common_pb2.TaskSpec
    max_restarts: int
    node_id: bytes = b""
    lease_nm: NodeManagerClient | None = None
    killed: bool = False
    incarnation: int = 0
    warned_infeasible: bool = False


def _shape(actor: _Actor) -> tuple:
    """What an actor needs of a node (the larger of its required and placement amounts) and
    its scheduling strategy: the key of its pending queue."""
    want = dict(actor.spec.required_resources)
    for k, v in actor.spec.actor_creation.placement_resources.items():
        want[k] = max(want.get(k, 0.0), v)
    return tuple(sorted(want.items())), actor.spec.scheduling_strategy.SerializeToString()


def _death(
    kind: int, message: str, actor_id: bytes, cause: common_pb2.ErrorInfo | None = None
) -> common_pb2.ErrorInfo:
    if cause is not None:
        info = common_pb2.ErrorInfo()
        info.CopyFrom(cause)
        info.type = kind
        info.actor_id = actor_id
        return info
    return common_pb2.ErrorInfo(
        type=kind, message=message, actor_id=actor_id, language=common_pb2.LANGUAGE_PYTHON
    )


class ActorManager:
    """Actors by id and by (namespace, name).

    Args:
        alive_nodes: The nodes that may host actors, with their resources.
        publish: Sends a message to the GCS's subscribers.
        node_manager: The client of the node manager at an address.
        core_worker: The client of the core worker at an address.
        function_record: An exported definition by hash (sent with creation tasks).
        job_config: A job's config (sent with creation tasks).
    """

    def __init__(
        self,
        alive_nodes: Callable[[], list[common_pb2.NodeInfo]],
        publish: Callable[[gcs_pb2.PubMessage], None],
        node_manager: Callable[[str], NodeManagerClient],
        core_worker: Callable[[common_pb2.Address], CoreWorkerClient],
        function_record: Callable[[bytes], common_pb2.FunctionExport | None] = lambda h: None,
        job_config: Callable[[bytes], common_pb2.JobConfig | None] = lambda j: None,
    ) -> None:
        self._function_record = function_record
        self._job_config = job_config
        self._alive_nodes = alive_nodes
        self._publish_message = publish
        self._node_manager = node_manager
        self._core_worker = core_worker
        self._lock = threading.Condition()
        self._actors: dict[bytes, _Actor] = {}
        self._names: dict[tuple[str, str], bytes] = {}
        self._stopped = False
        # Placement: actors waiting for a lease request, events from rpc callbacks, lease
        # requests in flight per node, and the thread that runs them.
        # Pending actors wait in one FIFO queue per resource shape: a placement pass costs
        # one look per shape, not one per pending actor.
        self._pending: dict[tuple, collections.deque[tuple[_Actor, int]]] = {}
        self._events: list[Callable[[], None]] = []
        self._leasing: dict[bytes, int] = {}
        self.spread_next = 0
        self._kick = False
        self._placer: threading.Thread | None = None
        # Called (with the actor id) whenever an actor's state changes: long-polls wake up.
        self._listeners: list[Callable[[bytes], None]] = []

    # ---- RPC entry points ------------------------------------------------------------

    def create_actor(self, request: gcs_pb2.CreateActorRequest) -> gcs_pb2.CreateActorReply:
        """Registers and starts creating an actor.

        Raises:
            NameTakenError: A live actor has the name in the namespace (and not get_if_exists).
        """
        spec = request.creation_spec
        creation = spec.actor_creation
        with self._lock:
            existing = self._actors.get(creation.actor_id)
            if existing is not None:
                return gcs_pb2.CreateActorReply(actor=existing.info)
            if creation.name:
                key = (creation.ray_namespace, creation.name)
                other = self._names.get(key)
                if other is not None and self._actors[other].info.state != gcs_pb2.ACTOR_STATE_DEAD:
                    if request.get_if_exists:
                        return gcs_pb2.CreateActorReply(
                            actor=self._actors[other].info, already_existed=True
                        )
                    raise NameTakenError(
                        f"The name {creation.name!r} (namespace={creation.ray_namespace!r}) is already "
                        "taken by a live actor; pick another name, or pass get_if_exists=True"
                    )
                self._names[key] = creation.actor_id
            info = gcs_pb2.ActorInfo(
                actor_id=creation.actor_id,
                state=gcs_pb2.ACTOR_STATE_PENDING_CREATION,
                name=creation.name,
                ray_namespace=creation.ray_namespace,
                job_id=spec.job_id,
                class_name=creation.class_name,
                is_detached=creation.is_detached,
                creation_spec=spec,
                owner_address=spec.caller_address,
            )
            actor = _Actor(info, spec, creation.max_restarts)
            self._actors[creation.actor_id] = actor
        self._publish(actor)
        self._start_creation(actor)
        return gcs_pb2.CreateActorReply(actor=info)

    def get_actor_info(self, actor_id: bytes, wait_s: float) -> gcs_pb2.ActorInfo | None:
        deadline = time.monotonic() + min(wait_s, constants.LONG_POLL_S * 2)
        with self._lock:
            actor = self._actors.get(actor_id)
            if actor is None:
                return None
            while actor.info.state in _WAITABLE and not self._stopped:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return self._copy(actor.info)

    def get_named_actor(self, name: str, namespace: str) -> gcs_pb2.ActorInfo | None:
        with self._lock:
            actor_id = self._names.get((namespace, name))
            actor = self._actors.get(actor_id) if actor_id else None
            if actor is None or actor.info.state == gcs_pb2.ACTOR_STATE_DEAD:
                return None
            return self._copy(actor.info)

    def list_named_actors(self, namespace: str, all_namespaces: bool) -> list[gcs_pb2.ActorInfo]:
        with self._lock:
            out = []
            for (ns, _), actor_id in self._names.items():
                actor = self._actors[actor_id]
                if actor.info.state != gcs_pb2.ACTOR_STATE_DEAD and (
                    all_namespaces or ns == namespace
                ):
                    out.append(self._copy(actor.info))
            return out

    def kill_actor(self, actor_id: bytes, no_restart: bool, force: bool, reason: str) -> bool:
        with self._lock:
            actor = self._actors.get(actor_id)
            if actor is None:
                return False
            if actor.info.state == gcs_pb2.ACTOR_STATE_DEAD:
                return True
            if no_restart:
                actor.killed = True
            address = common_pb2.Address()
            address.CopyFrom(actor.info.address)
            nm = actor.lease_nm
        why = reason or "ray.kill() was called on it"
        if no_restart:
            # Dead from now on (names are released at once); the worker stops next.
            self._mark_dead(
                actor,
                _death(common_pb2.ERROR_TYPE_ACTOR_DIED, f"The actor was killed: {why}.", actor_id),
            )
        if address.port:
            self._stop_worker(address, nm, force, why)
        return True

    # ---- events ----------------------------------------------------------------------

    def on_worker_dead(self, report: gcs_pb2.ReportWorkerFailureRequest) -> None:
        worker_id = report.worker_address.worker_id
        self._owner_died(worker_id)
        with self._lock:
            actor = None
            if report.actor_id:
                actor = self._actors.get(report.actor_id)
            if actor is None or actor.info.address.worker_id != worker_id:
                return
            state = actor.info.state
        if state == gcs_pb2.ACTOR_STATE_DEAD:
            return
        exit_info = report.exit_info
        intended = actor.killed or (
            exit_info.exit_code == constants.WORKER_INTENDED_EXIT_CODE and exit_info.signal == 0
        )
        self._on_actor_failure(actor, exit_info, intended)

    def _owner_died(self, worker_id: bytes) -> None:
        """Kills the non-detached actors the worker `worker_id` created (it died): they are
        not restarted, whatever their max_restarts."""
        if worker_id:
            self._kill_orphans(
                lambda owner: owner.worker_id == worker_id,
                "its owner (the process that created it) died",
            )

    def _kill_orphans(self, owned: Callable[[common_pb2.Address], bool], reason: str) -> None:
        """Kills, without restart, the live non-detached actors whose owner `owned` matches."""
        with self._lock:
            orphans = [
                a.info.actor_id
                for a in self._actors.values()
                if owned(a.info.owner_address)
                and not a.info.is_detached
                and a.info.state != gcs_pb2.ACTOR_STATE_DEAD
            ]
        for actor_id in orphans:
            self.kill_actor(actor_id, True, True, reason)

    def on_node_dead(self, node_id: bytes) -> None:
        # Every process of the node died, the owners of actors among them.
        self._kill_orphans(lambda owner: owner.node_id == node_id, "its owner's node died")
        with self._lock:
            victims = [
                a
                for a in self._actors.values()
                if a.node_id == node_id and a.info.state != gcs_pb2.ACTOR_STATE_DEAD
            ]
        for actor in victims:
            info = common_pb2.WorkerExitInfo(description=f"its node {node_id.hex()[:12]} died")
            self._on_actor_failure(actor, info, intended=False)

    def on_job_finished(self, job_id: bytes) -> None:
        with self._lock:
            victims = [
                a
                for a in self._actors.values()
                if a.spec.job_id == job_id
                and not a.info.is_detached
                and a.info.state != gcs_pb2.ACTOR_STATE_DEAD
            ]
        for actor in victims:
            self.kill_actor(actor.info.actor_id, True, True, "the job that owns it finished")

    def check_owners(self) -> None:
        """Kills non-detached actors whose owner process is gone."""
        with self._lock:
            owners: dict[bytes, tuple[common_pb2.Address, list[bytes]]] = {}
            for a in self._actors.values():
                if a.info.is_detached or a.info.state == gcs_pb2.ACTOR_STATE_DEAD:
                    continue
                owner = a.info.owner_address
                owners.setdefault(owner.worker_id, (owner, []))[1].append(a.info.actor_id)
        for owner, actor_ids in owners.values():
            if self._core_worker(owner).is_gone():
                for actor_id in actor_ids:
                    self.kill_actor(
                        actor_id, True, True, "its owner (the process that created it) died"
                    )

    def actors_in_placement_group(self, pg_id: bytes) -> list[bytes]:
        """The actors not dead whose creation asked for placement group `pg_id`."""
        with self._lock:
            return [
                actor_id
                for actor_id, actor in self._actors.items()
                if actor.info.state != gcs_pb2.ACTOR_STATE_DEAD
                and actor.spec.scheduling_strategy.placement_group.placement_group_id == pg_id
            ]

    def pending_demand(self) -> list[common_pb2.ResourceDemand]:
        """Actors waiting to be placed, by shape (infeasible: no alive node can ever hold them)."""
        with self._lock:
            shapes = [(key, len(q)) for key, q in self._pending.items() if q]
        nodes = self._alive_nodes()
        out = []
        for (shape, _), count in shapes:
            want = dict(shape)
            fits = any(
                all(n.resources.total.get(k, 0.0) >= v for k, v in want.items()) for n in nodes
            )
            out.append(
                common_pb2.ResourceDemand(
                    shape=want, count=count, infeasible=not fits, kind="actor"
                )
            )
        return out

    def add_listener(self, listener: Callable[[bytes], None]) -> None:
        """Calls `listener(actor_id)` on every state change (it must not block)."""
        self._listeners.append(listener)

    def _changed(self, actor: _Actor) -> None:
        """An actor's state changed: wake waiters. Lock held."""
        self._lock.notify_all()
        for listener in self._listeners:
            try:
                listener(actor.info.actor_id)
            except Exception:  # noqa: BLE001
                logger.exception("actor state listener failed")

    def is_waitable(self, info: gcs_pb2.ActorInfo) -> bool:
        return info.state in _WAITABLE

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    # ---- creation --------------------------------------------------------------------
    #
    # One thread places every pending actor: it asks a node manager for a dedicated worker
    # (at most MAX_LEASES_PER_NODE requests in flight per node, so pending actors wait here
    # and cost memory, not threads of the GCS or of the node), runs the creation task on the
    # granted worker, and hears both replies through callbacks. Nothing blocks on a reply.

    def _start_creation(self, actor: _Actor) -> None:
        with self._lock:
            self._queue_of(actor).append((actor, actor.incarnation))
            self._kick = True
            self._lock.notify_all()
        self._ensure_placer()

    def _ensure_placer(self) -> None:
        with self._lock:
            if self._placer is None and not self._stopped:
                self._placer = threading.Thread(
                    target=self._place_forever, name="actor-placer", daemon=True
                )
                self._placer.start()

    def _post(self, event: Callable[[], None]) -> None:
        """Runs `event` on the placer thread (called from gRPC callback threads)."""
        with self._lock:
            self._events.append(event)
            self._lock.notify_all()

    def _place_forever(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and not self._events and not self._placeable():
                    self._lock.wait(0.5)
                    self._retry_waiting_now()
                if self._stopped:
                    return
                events, self._events = self._events, []
            for event in events:
                try:
                    event()
                except Exception:  # noqa: BLE001 - one bad event must not stop placement
                    logger.exception("actor placement event failed")
            try:
                self._place_pending()
            except Exception:  # noqa: BLE001
                logger.exception("actor placement failed")

    def _placeable(self) -> bool:
        """Whether some pending actor may be sent to a node now. Lock held."""
        return bool(self._pending) and self._kick

    def _queue_of(self, actor: _Actor) -> collections.deque[tuple[_Actor, int]]:
        """The pending queue of the actor's resource shape. Lock held."""
        key = _shape(actor)
        queue = self._pending.get(key)
        if queue is None:
            queue = self._pending[key] = collections.deque()
        return queue

    def _retry_waiting_now(self) -> None:
        """Every half second, pending actors are looked at again (the resource view moved)."""
        if self._pending:
            self._kick = True

    def _place_pending(self) -> None:
        """Sends lease requests for the head of each queue while a node has room for it."""
        with self._lock:
            self._kick = False
            queues = list(self._pending.items())
        nodes = self._alive_nodes()
        every = ClusterView()
        every.update(nodes)
        # Nodes with fewer than MAX_LEASES_PER_NODE lease requests in flight.
        roomy = ClusterView()
        roomy.update(n for n in nodes if self._leasing.get(n.node_id, 0) < MAX_LEASES_PER_NODE)
        roomy.spread_next = self.spread_next
        for (shape, _), queue in queues:
            want = to_fixed(dict(shape))
            while True:
                with self._lock:
                    if self._stopped or not queue:
                        break
                    actor, incarnation = queue[0]
                    if actor.killed or actor.incarnation != incarnation:
                        queue.popleft()
                        continue
                strategy = actor.spec.scheduling_strategy
                choice = roomy.choose(want, strategy)
                if choice.node is None:
                    overall = every.choose(want, strategy)
                    if overall.error:
                        with self._lock:
                            queue.popleft()
                        self._unschedulable(actor, overall.error)
                        continue
                    if overall.infeasible:
                        self._warn_infeasible(queue)
                    break
                with self._lock:
                    queue.popleft()
                roomy.reserve(choice.node.node_id, want)
                self._request_lease(actor, incarnation, choice.node.info)
                if self._leasing.get(choice.node.node_id, 0) >= MAX_LEASES_PER_NODE:
                    roomy.nodes.pop(choice.node.node_id, None)
        self.spread_next = roomy.spread_next
        with self._lock:
            for key in [k for k, q in self._pending.items() if not q]:
                del self._pending[key]

    def _unschedulable(self, actor: _Actor, error: str) -> None:
        cause = common_pb2.ErrorInfo(
            type=common_pb2.ERROR_TYPE_ACTOR_UNSCHEDULABLE,
            message=f"The actor cannot be placed: {error}.",
            actor_id=actor.info.actor_id,
            language=common_pb2.LANGUAGE_PYTHON,
        )
        self._mark_dead(actor, cause)

    def _warn_infeasible(self, queue: collections.deque[tuple[_Actor, int]]) -> None:
        """Tells each driver (once per actor) that no node can ever hold its actor."""
        with self._lock:
            unwarned = [a for a, _ in queue if not a.warned_infeasible]
            for actor in unwarned:
                actor.warned_infeasible = True
        for actor in unwarned:
            self._warn_driver(
                actor, "no node can ever hold this actor's resources; it stays pending"
            )

    def _request_lease(self, actor: _Actor, incarnation: int, node: common_pb2.NodeInfo) -> None:
        creation = actor.spec.actor_creation
        node_id = node.node_id
        nm = self._node_manager(f"{node.node_manager_address}:{node.node_manager_port}")
        request = node_manager_pb2.RequestWorkerLeaseRequest(
            lease_id=ids.new_unique_id(),
            job_id=actor.spec.job_id,
            resources=actor.spec.required_resources,
            placement_resources=creation.placement_resources,
            actor_id=actor.info.actor_id,
            task_name=creation.class_name,
            timeout_ms=int(constants.LONG_POLL_S * 1000),
            # The GCS chose the node: it grants or says infeasible, it does not spill.
            grant_or_reject=True,
            serialized_runtime_env=actor.spec.serialized_runtime_env,
        )
        self._leasing[node_id] = self._leasing.get(node_id, 0) + 1

        def done(reply: node_manager_pb2.RequestWorkerLeaseReply | None, failure: object) -> None:
            self._post(lambda: self._on_lease(actor, incarnation, node_id, nm, reply, failure))

        nm.request_lease_async(request, constants.LONG_POLL_S + constants.RPC_TIMEOUT_S, done)

    def _on_lease(
        self,
        actor: _Actor,
        incarnation: int,
        node_id: bytes,
        nm: NodeManagerClient,
        reply: node_manager_pb2.RequestWorkerLeaseReply | None,
        failure: object,
    ) -> None:
        self._leasing[node_id] = max(self._leasing.get(node_id, 1) - 1, 0)
        with self._lock:
            stale = self._stopped or actor.killed or actor.incarnation != incarnation
        granted = reply is not None and reply.worker_address.port
        if stale:
            if granted:
                self._stop_worker(
                    reply.worker_address, nm, True, "the actor was killed while starting"
                )
            return
        if not granted and reply is not None and reply.error:
            # The node can never start it (e.g. its runtime env cannot be set up).
            self._unschedulable(actor, reply.error)
            return
        if not granted:
            if failure is not None:
                logger.warning(
                    "lease for actor %s failed: %s", ids.short(actor.info.actor_id), failure
                )
            with self._lock:
                self._queue_of(actor).appendleft((actor, incarnation))
                self._kick = failure is None and not (reply is not None and reply.infeasible)
            return
        self._run_creation_task(actor, incarnation, nm, reply)

    def _run_creation_task(
        self,
        actor: _Actor,
        incarnation: int,
        nm: NodeManagerClient,
        lease: node_manager_pb2.RequestWorkerLeaseReply,
    ) -> None:
        """Runs __init__ on the leased worker (its reply comes back as an event).

        The call has no deadline: __init__ may run as long as it needs. A worker that dies
        breaks the call, and its node reports the death (which decides about restarts).
        """
        request = core_worker_pb2.PushTaskRequest(task_spec=actor.spec)
        # A restarted actor's creation task is numbered by its restarts, so the actor can
        # tell (`was_current_actor_reconstructed`).
        request.task_spec.attempt_number = actor.info.num_restarts
        for name, lst in lease.resource_ids.items():
            request.resource_ids[name].ids.extend(i.index for i in lst.ids)
        # The worker needs neither the GCS's function table nor its job table to start it.
        record = self._function_record(actor.spec.function.function_hash)
        if record is not None:
            request.function_export.CopyFrom(record)
        config = self._job_config(actor.spec.job_id)
        if config is not None:
            request.job_config.CopyFrom(config)
        with self._lock:
            actor.lease_nm = nm
            actor.node_id = lease.worker_address.node_id
            actor.info.address.CopyFrom(lease.worker_address)
            actor.info.pid = lease.worker_pid

        def done(reply: core_worker_pb2.PushTaskReply | None, failure: object) -> None:
            self._post(lambda: self._on_created(actor, incarnation, nm, lease, reply, failure))

        self._core_worker(lease.worker_address).push_task_async(request, done)

    def _on_created(
        self,
        actor: _Actor,
        incarnation: int,
        nm: NodeManagerClient,
        lease: node_manager_pb2.RequestWorkerLeaseReply,
        reply: core_worker_pb2.PushTaskReply | None,
        failure: object,
    ) -> None:
        actor_id = actor.info.actor_id
        if failure is not None:
            logger.info("actor %s worker died during creation: %s", ids.short(actor_id), failure)
            return  # the worker death report (ReportWorkerFailure) decides about restarts
        if reply.actor_creation_failed:
            cause = None
            if reply.return_objects:
                value = serialization.deserialize(reply.return_objects[0].data)
                if isinstance(value, serialization.ErrorValue):
                    cause = value.info
            self._mark_dead(
                actor, _death(common_pb2.ERROR_TYPE_ACTOR_DIED, "__init__ failed", actor_id, cause)
            )
            self._stop_worker(lease.worker_address, nm, True, "actor creation failed")
            return
        with self._lock:
            stale = actor.incarnation != incarnation or actor.killed
            if not stale:
                actor.info.state = gcs_pb2.ACTOR_STATE_ALIVE
                self._changed(actor)
        if stale:
            self._stop_worker(lease.worker_address, nm, True, "actor was killed while starting")
            return
        logger.info(
            "actor %s (%s) is alive, pid %d",
            ids.short(actor_id),
            actor.info.class_name,
            lease.worker_pid,
        )
        self._publish(actor)

    def _on_actor_failure(
        self, actor: _Actor, exit_info: common_pb2.WorkerExitInfo, intended: bool
    ) -> None:
        actor_id = actor.info.actor_id
        with self._lock:
            restarts = actor.info.num_restarts
            can_restart = (
                not intended
                and not actor.killed
                and (actor.max_restarts < 0 or restarts < actor.max_restarts)
            )
            if can_restart:
                actor.incarnation += 1
                actor.info.num_restarts += 1
                actor.info.state = gcs_pb2.ACTOR_STATE_RESTARTING
                actor.info.ClearField("address")
                self._changed(actor)
        if can_restart:
            logger.info(
                "actor %s died (%s); restarting (%d/%s)",
                ids.short(actor_id),
                exit_info.description,
                restarts + 1,
                actor.max_restarts if actor.max_restarts >= 0 else "inf",
            )
            self._publish(actor)
            self._start_creation(actor)
            return
        if actor.killed:
            message = "The actor was killed by ray.kill() (or its owner or job ended)."
        elif intended:
            message = "The actor exited on purpose (exit_actor(), or all handles to it went out of scope)."
        else:
            message = f"The actor's worker process died: {exit_info.description}."
            if exit_info.out_of_memory:
                message += " The node ran out of memory."
            if actor.max_restarts:
                message += (
                    f" It was restarted {restarts} time(s) (max_restarts={actor.max_restarts})."
                )
            if exit_info.stderr_tail:
                message += "\nLast lines of its stderr:\n" + exit_info.stderr_tail
        self._mark_dead(actor, _death(common_pb2.ERROR_TYPE_ACTOR_DIED, message, actor_id))

    def _mark_dead(self, actor: _Actor, cause: common_pb2.ErrorInfo) -> None:
        with self._lock:
            if actor.info.state == gcs_pb2.ACTOR_STATE_DEAD:
                return
            actor.info.state = gcs_pb2.ACTOR_STATE_DEAD
            actor.info.death_cause.CopyFrom(cause)
            actor.incarnation += 1
            key = (actor.info.ray_namespace, actor.info.name)
            if actor.info.name and self._names.get(key) == actor.info.actor_id:
                del self._names[key]
            self._changed(actor)
        self._publish(actor)

    def _stop_worker(
        self, address: common_pb2.Address, nm: NodeManagerClient | None, force: bool, reason: str
    ) -> None:
        if nm is not None:
            try:
                nm.kill_worker(address.worker_id, force, reason)
                return
            except rpc_errors.RpcFailure as err:
                logger.debug("kill_worker failed: %s", err)
        try:
            self._core_worker(address).kill_actor(b"", force, reason)
        except rpc_errors.RpcFailure:
            pass

    def _publish(self, actor: _Actor) -> None:
        with self._lock:
            info = self._copy(actor.info)
        info.ClearField("creation_spec")
        self._publish_message(
            gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_ACTOR_STATE, actor_info=info)
        )

    def _warn_driver(self, actor: _Actor, text: str) -> None:
        msg = gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_ERRORS)
        msg.driver_message.job_id = actor.spec.job_id
        msg.driver_message.kind = "Warning"
        msg.driver_message.message = f"The actor {actor.info.class_name} needs {dict(actor.spec.actor_creation.placement_resources) or dict(actor.spec.required_resources)}: {text}."
        self._publish_message(msg)

    @staticmethod
    def _copy(info: gcs_pb2.ActorInfo) -> gcs_pb2.ActorInfo:
        out = gcs_pb2.ActorInfo()
        out.CopyFrom(info)
        return out
