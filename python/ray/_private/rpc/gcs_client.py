"""Typed client of the GCS (gcs.proto)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import grpc

from ray._private import constants
from ray._private.generated import common_pb2, gcs_pb2, gcs_pb2_grpc
from ray._private.rpc import errors
from ray._private.rpc.client import ReplyCallback, ServiceClient

logger = logging.getLogger(__name__)


class GcsClient(ServiceClient):
    """Talks to the GCS at `address` (HOST:PORT) with the cluster token."""

    SERVICE = "GCS"
    STUB = gcs_pb2_grpc.GcsServiceStub

    def get_cluster_info(
        self, timeout_s: float = constants.RPC_TIMEOUT_S
    ) -> gcs_pb2.GetClusterInfoReply:
        return self._call("GetClusterInfo", gcs_pb2.GetClusterInfoRequest(), timeout_s, True)

    def register_node(self, node: common_pb2.NodeInfo) -> None:
        self._call(
            "RegisterNode", gcs_pb2.RegisterNodeRequest(node=node), constants.RPC_TIMEOUT_S, True
        )

    def unregister_node(self, node_id: bytes, reason: str, timeout_s: float = 2.0) -> None:
        self._call(
            "UnregisterNode",
            gcs_pb2.UnregisterNodeRequest(node_id=node_id, reason=reason),
            timeout_s,
        )

    def report_heartbeat(
        self,
        node_id: bytes,
        available: dict[str, float],
        demand: Iterable[common_pb2.ResourceDemand] = (),
    ) -> list[common_pb2.NodeInfo] | None:
        """Returns the alive nodes (the resource view); None when the GCS says this node is dead.

        Raises:
            errors.RpcFailure: The GCS did not answer.
        """
        request = gcs_pb2.ReportHeartbeatRequest(node_id=node_id, available=available, demand=demand)
        try:
            reply = self._call("ReportHeartbeat", request, constants.HEARTBEAT_PERIOD_S * 4)
        except errors.NotFound:
            return None
        return list(reply.nodes)

    def get_cluster_status(
        self, timeout_s: float = constants.RPC_TIMEOUT_S
    ) -> gcs_pb2.GetClusterStatusReply:
        return self._call("GetClusterStatus", gcs_pb2.GetClusterStatusRequest(), timeout_s, True)

    def get_all_nodes(
        self, timeout_s: float = constants.RPC_TIMEOUT_S
    ) -> list[common_pb2.NodeInfo]:
        return list(self._call("GetAllNodes", gcs_pb2.GetAllNodesRequest(), timeout_s, True).nodes)

    def register_job(
        self,
        driver_address: common_pb2.Address,
        pid: int,
        job_config: common_pb2.JobConfig,
        language: int = common_pb2.LANGUAGE_PYTHON,
    ) -> bytes:
        req = gcs_pb2.RegisterJobRequest(
            driver_address=driver_address, driver_pid=pid, language=language, job_config=job_config
        )
        return self._call("RegisterJob", req, constants.RPC_TIMEOUT_S, True).job_id

    def get_job_config(self, job_id: bytes) -> common_pb2.JobConfig | None:
        """The config a job registered with; None for an unknown job."""
        try:
            reply = self._call(
                "GetJobConfig",
                gcs_pb2.GetJobConfigRequest(job_id=job_id),
                constants.RPC_TIMEOUT_S,
                True,
            )
        except errors.NotFound:
            return None
        return reply.job_config

    def mark_job_finished(self, job_id: bytes, timeout_s: float = 5.0) -> None:
        self._call("MarkJobFinished", gcs_pb2.MarkJobFinishedRequest(job_id=job_id), timeout_s)

    def kv_put(self, namespace: str, key: bytes, value: bytes, overwrite: bool = True) -> bool:
        req = gcs_pb2.KvPutRequest(namespace=namespace, key=key, value=value, overwrite=overwrite)
        return self._call("KvPut", req, constants.RPC_TIMEOUT_S, True).added

    def kv_get(self, namespace: str, key: bytes) -> bytes | None:
        reply = self._call(
            "KvGet",
            gcs_pb2.KvGetRequest(namespace=namespace, keys=[key]),
            constants.RPC_TIMEOUT_S,
            True,
        )
        return reply.entries[0].value if reply.entries else None

    def kv_del(self, namespace: str, key: bytes, by_prefix: bool = False) -> int:
        req = gcs_pb2.KvDelRequest(namespace=namespace, key=key, by_prefix=by_prefix)
        return self._call("KvDel", req, constants.RPC_TIMEOUT_S, True).deleted_count

    def kv_keys(self, namespace: str, prefix: bytes = b"") -> list[bytes]:
        req = gcs_pb2.KvKeysRequest(namespace=namespace, prefix=prefix)
        return list(self._call("KvKeys", req, constants.RPC_TIMEOUT_S, True).keys)

    def create_actor(
        self, spec: common_pb2.TaskSpec, get_if_exists: bool
    ) -> gcs_pb2.CreateActorReply:
        """Raises errors.AlreadyExists when the name is taken."""
        req = gcs_pb2.CreateActorRequest(creation_spec=spec, get_if_exists=get_if_exists)
        return self._call("CreateActor", req, constants.RPC_TIMEOUT_S, True)

    def get_actor_info(
        self, actor_id: bytes, wait_timeout_s: float = 0.0
    ) -> gcs_pb2.ActorInfo | None:
        """The actor's state (waiting up to `wait_timeout_s` while it is pending); None if unknown."""
        req = gcs_pb2.GetActorInfoRequest(
            actor_id=actor_id, wait_timeout_ms=int(wait_timeout_s * 1000)
        )
        try:
            return self._call(
                "GetActorInfo", req, constants.RPC_TIMEOUT_S + wait_timeout_s, True
            ).actor
        except errors.NotFound:
            return None

    # ---- placement groups --------------------------------------------------------------

    def create_placement_group(self, info: gcs_pb2.PlacementGroupInfo) -> None:
        """Raises errors.AlreadyExists (name taken), errors.InvalidArgument."""
        req = gcs_pb2.CreatePlacementGroupRequest(placement_group=info)
        self._call("CreatePlacementGroup", req, constants.RPC_TIMEOUT_S, True)

    def remove_placement_group(self, pg_id: bytes) -> None:
        """Raises errors.NotFound for an unknown group."""
        req = gcs_pb2.RemovePlacementGroupRequest(placement_group_id=pg_id)
        self._call("RemovePlacementGroup", req, constants.RPC_TIMEOUT_S * 2, True)

    def get_placement_group(
        self, pg_id: bytes = b"", name: str = "", namespace: str = ""
    ) -> gcs_pb2.PlacementGroupInfo | None:
        """By id, or by name in a namespace; None if there is none."""
        req = gcs_pb2.GetPlacementGroupRequest(
            placement_group_id=pg_id, name=name, ray_namespace=namespace
        )
        try:
            return self._call(
                "GetPlacementGroup", req, constants.RPC_TIMEOUT_S, True
            ).placement_group
        except errors.NotFound:
            return None

    def list_placement_groups(self) -> list[gcs_pb2.PlacementGroupInfo]:
        req = gcs_pb2.ListPlacementGroupsRequest()
        return list(
            self._call("ListPlacementGroups", req, constants.RPC_TIMEOUT_S, True).placement_groups
        )

    def wait_placement_group(
        self, pg_id: bytes, timeout_s: float
    ) -> gcs_pb2.WaitPlacementGroupUntilReadyReply:
        """Waits up to `timeout_s` (the GCS caps one call); raises errors.NotFound."""
        req = gcs_pb2.WaitPlacementGroupUntilReadyRequest(
            placement_group_id=pg_id, timeout_ms=int(max(timeout_s, 0) * 1000)
        )
        return self._call(
            "WaitPlacementGroupUntilReady", req, constants.RPC_TIMEOUT_S + timeout_s, True
        )

    def get_actor_info_async(
        self, actor_id: bytes, wait_timeout_s: float, callback: ReplyCallback
    ) -> None:
        """GetActorInfo without blocking: `callback(reply, failure)` (NotFound for an unknown actor)."""
        req = gcs_pb2.GetActorInfoRequest(
            actor_id=actor_id, wait_timeout_ms=int(wait_timeout_s * 1000)
        )
        self._call_async("GetActorInfo", req, constants.RPC_TIMEOUT_S + wait_timeout_s, callback)

    def get_named_actor(self, name: str, namespace: str) -> gcs_pb2.ActorInfo | None:
        req = gcs_pb2.GetNamedActorRequest(name=name, ray_namespace=namespace)
        try:
            return self._call("GetNamedActor", req, constants.RPC_TIMEOUT_S, True).actor
        except errors.NotFound:
            return None

    def list_named_actors(self, namespace: str, all_namespaces: bool) -> list[gcs_pb2.ActorInfo]:
        req = gcs_pb2.ListNamedActorsRequest(ray_namespace=namespace, all_namespaces=all_namespaces)
        return list(self._call("ListNamedActors", req, constants.RPC_TIMEOUT_S, True).actors)

    def kill_actor(
        self, actor_id: bytes, no_restart: bool, force: bool = True, reason: str = ""
    ) -> None:
        """Raises errors.NotFound for an unknown actor."""
        req = gcs_pb2.KillActorViaGcsRequest(
            actor_id=actor_id, no_restart=no_restart, force=force, reason=reason
        )
        self._call("KillActorViaGcs", req, constants.RPC_TIMEOUT_S, True)

    def report_worker_failure(self, report: gcs_pb2.ReportWorkerFailureRequest) -> None:
        self._call("ReportWorkerFailure", report, 5.0, True)

    def publish(self, messages: list[gcs_pb2.PubMessage], timeout_s: float = 5.0) -> None:
        self._call("Publish", gcs_pb2.PublishRequest(messages=messages), timeout_s)

    def subscribe(
        self,
        channels: list[int],
        job_id: bytes,
        on_message: Callable[[gcs_pb2.PubMessage], None],
        stop: threading.Event,
    ) -> threading.Thread:
        """Runs a subscription in a daemon thread until `stop` is set, resubscribing after errors.

        Returns once the first subscription is live (or failed to start), so
        messages published after this call are delivered.
        """
        live = threading.Event()
        holder: dict[str, object] = {}

        def run() -> None:
            backoff = 0.05
            while not stop.is_set():
                stream = self._stub.Subscribe(
                    gcs_pb2.SubscribeRequest(channels=channels, job_id=job_id), metadata=self._md
                )
                holder["stream"] = stream
                try:
                    for reply in stream:
                        live.set()
                        backoff = 0.05
                        for msg in reply.messages:
                            on_message(msg)
                except grpc.RpcError as err:
                    if stop.is_set():
                        return
                    logger.debug("subscription ended: %s", self._failure(err))
                live.set()
                stop.wait(backoff)
                backoff = min(backoff * 2, 1.0)

        def cancel_on_stop() -> None:
            stop.wait()
            stream = holder.get("stream")
            if stream is not None:
                stream.cancel()  # type: ignore[attr-defined]

        thread = threading.Thread(target=run, name="gcs-subscriber", daemon=True)
        thread.start()
        threading.Thread(target=cancel_on_stop, name="gcs-subscriber-stop", daemon=True).start()
        live.wait(5.0)
        return thread
