"""The GCS's state: its tables, the pub/sub hub and the death detector (`main.py` runs it)."""

from __future__ import annotations

import logging
import threading

from ray._private import constants
from ray._private.gcs.actor_manager import ActorManager
from ray._private.gcs.job_table import JobTable
from ray._private.gcs.node_table import NodeTable, merge_demand
from ray._private.gcs.placement_group_manager import PlacementGroupManager
from ray._private.gcs.pubsub import Publisher
from ray._private.gcs.storage import InMemoryKvStorage, KvStorage
from ray._private.generated import common_pb2, gcs_pb2
from ray._private.rpc.core_worker_client import CoreWorkerClients
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)

# The key-value namespace of exported function definitions (worker/function_manager.py).
FUNCTION_NAMESPACE = "fun"


class GcsServer:
    """Holds the cluster's control state. RPCs reach it through `GcsServicer`."""

    def __init__(
        self, session_name: str, session_dir: str, token: str, storage: KvStorage | None = None
    ) -> None:
        self.session_name = session_name
        self.session_dir = session_dir
        self.token = token
        self.kv = storage or InMemoryKvStorage()
        self.publisher = Publisher()
        self.jobs = JobTable()
        self.nodes = NodeTable(
            constants.HEARTBEAT_PERIOD_S * constants.NUM_HEARTBEATS_TIMEOUT, self._node_changed
        )
        self._workers = CoreWorkerClients(token)
        self.actors = ActorManager(
            self.nodes.alive,
            self.publisher.publish,
            lambda address: NodeManagerClient(address, token),
            self._workers.get,
            self._function_record,
            self._job_config,
        )
        self.placement_groups = PlacementGroupManager(
            self.nodes.alive,
            lambda address: NodeManagerClient(address, token),
            self.nodes.adjust_resources,
            self._kill_placement_group_actors,
        )
        self._stop = threading.Event()

    def _function_record(self, function_hash: bytes) -> common_pb2.FunctionExport | None:
        if not function_hash:
            return None
        data = self.kv.get(FUNCTION_NAMESPACE, function_hash)
        return None if data is None else common_pb2.FunctionExport.FromString(data)

    def _job_config(self, job_id: bytes) -> common_pb2.JobConfig | None:
        entry = self.jobs.get(job_id)
        return None if entry is None else entry.config

    def cluster_info(self) -> gcs_pb2.GetClusterInfoReply:
        head = next((n.node_id for n in self.nodes.all() if n.is_head), b"")
        return gcs_pb2.GetClusterInfoReply(
            session_name=self.session_name, session_dir=self.session_dir, head_node_id=head
        )

    def cluster_status(self) -> gcs_pb2.GetClusterStatusReply:
        demand = merge_demand(
            [
                *self.nodes.demand(),
                *self.actors.pending_demand(),
                *self.placement_groups.pending_demand(),
            ]
        )
        return gcs_pb2.GetClusterStatusReply(nodes=self.nodes.all(), demand=demand)

    def _node_changed(self, info: common_pb2.NodeInfo) -> None:
        self.publisher.publish(
            gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_NODE_STATE, node_info=info)
        )
        if info.state == common_pb2.NODE_STATE_DEAD:
            self.actors.on_node_dead(info.node_id)
            self.placement_groups.on_node_dead(info.node_id)
        else:
            self.placement_groups.on_node_added()

    def node_died(self, node_id: bytes, reason: str) -> None:
        self.nodes.mark_dead(node_id, reason)

    def job_finished(self, job_id: bytes) -> None:
        if self.jobs.finish(job_id) is not None:
            self.actors.on_job_finished(job_id)
            self.placement_groups.on_job_finished(job_id)

    def _job_driver_gone(self, job_id: bytes) -> bool:
        entry = self.jobs.get(job_id)
        if entry is None or entry.finished:
            return entry is not None
        return self._workers.get(entry.driver_address).is_gone()

    def _kill_placement_group_actors(self, pg_id: bytes) -> None:
        for actor_id in self.actors.actors_in_placement_group(pg_id):
            self.actors.kill_actor(actor_id, True, True, "its placement group was removed")

    def worker_failed(self, report: gcs_pb2.ReportWorkerFailureRequest) -> None:
        self.publisher.publish(
            gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_WORKER_FAILURE, worker_failure=report)
        )
        self.actors.on_worker_dead(report)

    def run_health_checks(self) -> None:
        rounds = 0
        while not self._stop.wait(constants.HEARTBEAT_PERIOD_S):
            rounds += 1
            try:
                self.nodes.check_timeouts()
                if rounds % 4 == 0:  # owners of actors: every few heartbeats is enough
                    self.actors.check_owners()
                    self.placement_groups.check_creators(self._job_driver_gone)
            except Exception:  # noqa: BLE001 - the checker must survive one bad round
                logger.exception("health check failed")

    def stop(self) -> None:
        self._stop.set()
        self.publisher.close()
        self.placement_groups.stop()
        self.actors.stop()
