"""The actor directory of the GCS: creates actors, keeps them alive, names them.

Each actor moves PENDING_CREATION -> ALIVE -> (RESTARTING -> ALIVE)* -> DEAD.
Creating one means leasing a dedicated worker from a node manager and running
the creation task on it; both happen on a thread of their own, so CreateActor
returns at once and callers queue their calls until the actor is ALIVE.
"""

from __future__ import annotations

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

logger = logging.getLogger(__name__)

_WAITABLE = (gcs_pb2.ACTOR_STATE_PENDING_CREATION, gcs_pb2.ACTOR_STATE_RESTARTING)


class NameTakenError(Exception):
    """A live actor already has the name in its namespace."""


@dataclass
class _Actor:
    info: gcs_pb2.ActorInfo
    spec: common_pb2.TaskSpec
    max_restarts: int
    node_id: bytes = b""
    lease_nm: NodeManagerClient | None = None
    killed: bool = False
    incarnation: int = 0


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
    """

    def __init__(
        self,
        alive_nodes: Callable[[], list[common_pb2.NodeInfo]],
        publish: Callable[[gcs_pb2.PubMessage], None],
        node_manager: Callable[[str], NodeManagerClient],
        core_worker: Callable[[common_pb2.Address], CoreWorkerClient],
    ) -> None:
        self._alive_nodes = alive_nodes
        self._publish_message = publish
        self._node_manager = node_manager
        self._core_worker = core_worker
        self._lock = threading.Condition()
        self._actors: dict[bytes, _Actor] = {}
        self._names: dict[tuple[str, str], bytes] = {}
        self._stopped = False

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
        intended = actor.killed or (exit_info.exit_code == 0 and exit_info.signal == 0)
        self._on_actor_failure(actor, exit_info, intended)

    def on_node_dead(self, node_id: bytes) -> None:
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

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    # ---- creation --------------------------------------------------------------------

    def _start_creation(self, actor: _Actor) -> None:
        threading.Thread(
            target=self._create, args=(actor, actor.incarnation), name="actor-create", daemon=True
        ).start()

    def _create(self, actor: _Actor, incarnation: int) -> None:
        actor_id = actor.info.actor_id
        creation = actor.spec.actor_creation
        warned = False
        while True:
            with self._lock:
                if self._stopped or actor.killed or actor.incarnation != incarnation:
                    return
            nodes = self._alive_nodes()
            node = self._pick_node(
                nodes, dict(actor.spec.required_resources), dict(creation.placement_resources)
            )
            if node is None:
                warned = self._wait_infeasible(actor, warned)
                continue
            nm = self._node_manager(f"{node.node_manager_address}:{node.node_manager_port}")
            request = node_manager_pb2.RequestWorkerLeaseRequest(
                lease_id=ids.new_unique_id(),
                job_id=actor.spec.job_id,
                resources=actor.spec.required_resources,
                placement_resources=creation.placement_resources,
                actor_id=actor_id,
                task_name=creation.class_name,
                timeout_ms=int(constants.LONG_POLL_S * 1000),
            )
            try:
                reply = nm.request_lease(request, constants.LONG_POLL_S + constants.RPC_TIMEOUT_S)
            except rpc_errors.RpcFailure as err:
                logger.warning("lease for actor %s failed: %s", ids.short(actor_id), err)
                time.sleep(0.2)
                continue
            if reply.infeasible:
                warned = self._wait_infeasible(actor, warned)
                continue
            if not reply.worker_address.port:
                continue
            if self._run_creation_task(actor, incarnation, nm, reply):
                return

    def _wait_infeasible(self, actor: _Actor, warned: bool) -> bool:
        """No node fits the actor: warn its driver once, then wait a little. Returns `warned`."""
        if not warned:
            self._warn_driver(
                actor, "no node can ever hold this actor's resources; it stays pending"
            )
        time.sleep(0.5)
        return True

    def _pick_node(
        self, nodes: list[common_pb2.NodeInfo], need: dict[str, float], place: dict[str, float]
    ) -> common_pb2.NodeInfo | None:
        want = dict(need)
        for k, v in place.items():
            want[k] = max(want.get(k, 0.0), v)
        fits = [
            n for n in nodes if all(n.resources.total.get(k, 0.0) >= v for k, v in want.items())
        ]
        if not fits:
            return None
        free = [
            n for n in fits if all(n.resources.available.get(k, 0.0) >= v for k, v in want.items())
        ]
        return (free or fits)[0]

    def _run_creation_task(
        self,
        actor: _Actor,
        incarnation: int,
        nm: NodeManagerClient,
        lease: node_manager_pb2.RequestWorkerLeaseReply,
    ) -> bool:
        """Runs __init__ on the leased worker. Returns False to retry with another lease."""
        actor_id = actor.info.actor_id
        request = core_worker_pb2.PushTaskRequest(task_spec=actor.spec)
        # A restarted actor's creation task is numbered by its restarts, so the actor can
        # tell (`was_current_actor_reconstructed`).
        request.task_spec.attempt_number = actor.info.num_restarts
        for name, lst in lease.resource_ids.items():
            request.resource_ids[name].ids.extend(i.index for i in lst.ids)
        with self._lock:
            actor.lease_nm = nm
            actor.node_id = lease.worker_address.node_id
            actor.info.address.CopyFrom(lease.worker_address)
            actor.info.pid = lease.worker_pid
        outcome = self._push_creation(actor, incarnation, lease.worker_address, request)
        if outcome is None:
            return True  # the actor was killed, or the GCS is stopping
        reply, failure = outcome
        if failure is not None:
            logger.info("actor %s worker died during creation: %s", ids.short(actor_id), failure)
            # The worker death report (ReportWorkerFailure) decides about restarts.
            return True
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
            return True
        with self._lock:
            if actor.incarnation != incarnation or actor.killed:
                stale = True
            else:
                stale = False
                actor.info.state = gcs_pb2.ACTOR_STATE_ALIVE
                self._lock.notify_all()
        if stale:
            self._stop_worker(lease.worker_address, nm, True, "actor was killed while starting")
            return True
        logger.info(
            "actor %s (%s) is alive, pid %d",
            ids.short(actor_id),
            actor.info.class_name,
            lease.worker_pid,
        )
        self._publish(actor)
        return True

    def _push_creation(
        self,
        actor: _Actor,
        incarnation: int,
        address: common_pb2.Address,
        request: core_worker_pb2.PushTaskRequest,
    ) -> tuple | None:
        """Runs the creation task; returns (reply, failure), or None if the actor stopped mattering.

        The call itself has no deadline: __init__ may run as long as it needs. A worker that
        dies breaks the call (and its node reports the death); this thread stops waiting as
        soon as the actor is killed or restarted elsewhere, or the GCS stops.
        """
        done = threading.Event()
        outcome: list = []

        def finished(reply: object, failure: object) -> None:
            outcome.append((reply, failure))
            done.set()

        self._core_worker(address).push_task_async(request, finished)
        while not done.wait(1.0):
            with self._lock:
                if self._stopped or actor.killed or actor.incarnation != incarnation:
                    return None
        return outcome[0]

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
                self._lock.notify_all()
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
            self._lock.notify_all()
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
