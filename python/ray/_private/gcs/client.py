"""Typed client of the GCS: deadlines, retries and error mapping live here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import grpc

from ray._private import constants, rpc
from ray._private.generated import common_pb2, gcs_pb2, gcs_pb2_grpc

logger = logging.getLogger(__name__)


class GcsUnavailableError(ConnectionError):
    """The GCS could not be reached."""


class GcsClient:
    """Talks to the GCS at `address` with the cluster token."""

    def __init__(self, address: str, token: str) -> None:
        self.address = address
        self._md = rpc.token_metadata(token)
        self._stub = gcs_pb2_grpc.GcsServiceStub(rpc.CHANNELS.get(address))

    def _call(
        self,
        method: str,
        request: object,
        timeout_s: float = constants.RPC_TIMEOUT_S,
        retry: bool = True,
    ) -> object:
        fn = getattr(self._stub, method)
        try:
            return rpc.call_with_retry(
                lambda left: fn(request, timeout=left, metadata=self._md),
                f"GCS {method}",
                timeout_s,
                retry_unavailable=retry,
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                raise GcsUnavailableError(
                    f"cannot reach the GCS at {self.address} ({err.details()}); is the cluster running?"
                ) from err
            raise

    def get_cluster_info(
        self, timeout_s: float = constants.RPC_TIMEOUT_S
    ) -> gcs_pb2.GetClusterInfoReply:
        return self._call("GetClusterInfo", gcs_pb2.GetClusterInfoRequest(), timeout_s)

    def register_node(self, node: gcs_pb2.NodeInfo) -> None:
        self._call("RegisterNode", gcs_pb2.RegisterNodeRequest(node=node))

    def unregister_node(self, node_id: bytes, reason: str, timeout_s: float = 2.0) -> None:
        self._call(
            "UnregisterNode",
            gcs_pb2.UnregisterNodeRequest(node_id=node_id, reason=reason),
            timeout_s,
            retry=False,
        )

    def report_heartbeat(self, node_id: bytes, available: dict[str, float]) -> bool:
        """Returns False when the GCS says the node is dead."""
        try:
            self._call(
                "ReportHeartbeat",
                gcs_pb2.ReportHeartbeatRequest(node_id=node_id, available=available),
                constants.HEARTBEAT_PERIOD_S * 4,
                retry=False,
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return True

    def get_all_nodes(self) -> list[gcs_pb2.NodeInfo]:
        return list(self._call("GetAllNodes", gcs_pb2.GetAllNodesRequest()).nodes)

    def register_job(self, driver_address: common_pb2.Address, pid: int, namespace: str) -> bytes:
        req = gcs_pb2.RegisterJobRequest(
            driver_address=driver_address,
            driver_pid=pid,
            ray_namespace=namespace,
            language=common_pb2.LANGUAGE_PYTHON,
        )
        return self._call("RegisterJob", req).job_id

    def mark_job_finished(self, job_id: bytes, timeout_s: float = 5.0) -> None:
        self._call(
            "MarkJobFinished", gcs_pb2.MarkJobFinishedRequest(job_id=job_id), timeout_s, retry=False
        )

    def kv_put(self, namespace: str, key: bytes, value: bytes, overwrite: bool = True) -> bool:
        req = gcs_pb2.KvPutRequest(namespace=namespace, key=key, value=value, overwrite=overwrite)
        return self._call("KvPut", req).added

    def kv_get(self, namespace: str, key: bytes) -> bytes | None:
        reply = self._call("KvGet", gcs_pb2.KvGetRequest(namespace=namespace, keys=[key]))
        return reply.entries[0].value if reply.entries else None

    def kv_del(self, namespace: str, key: bytes, by_prefix: bool = False) -> int:
        req = gcs_pb2.KvDelRequest(namespace=namespace, key=key, by_prefix=by_prefix)
        return self._call("KvDel", req).deleted_count

    def kv_keys(self, namespace: str, prefix: bytes = b"") -> list[bytes]:
        return list(
            self._call("KvKeys", gcs_pb2.KvKeysRequest(namespace=namespace, prefix=prefix)).keys
        )

    def create_actor(
        self, spec: common_pb2.TaskSpec, get_if_exists: bool
    ) -> gcs_pb2.CreateActorReply:
        req = gcs_pb2.CreateActorRequest(creation_spec=spec, get_if_exists=get_if_exists)
        return self._call("CreateActor", req)

    def get_actor_info(
        self, actor_id: bytes, wait_timeout_s: float = 0.0
    ) -> gcs_pb2.ActorInfo | None:
        req = gcs_pb2.GetActorInfoRequest(
            actor_id=actor_id, wait_timeout_ms=int(wait_timeout_s * 1000)
        )
        try:
            return self._call("GetActorInfo", req, constants.RPC_TIMEOUT_S + wait_timeout_s).actor
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def get_named_actor(self, name: str, namespace: str) -> gcs_pb2.ActorInfo | None:
        req = gcs_pb2.GetNamedActorRequest(name=name, ray_namespace=namespace)
        try:
            return self._call("GetNamedActor", req).actor
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def list_named_actors(self, namespace: str, all_namespaces: bool) -> list[gcs_pb2.ActorInfo]:
        req = gcs_pb2.ListNamedActorsRequest(ray_namespace=namespace, all_namespaces=all_namespaces)
        return list(self._call("ListNamedActors", req).actors)

    def kill_actor(
        self, actor_id: bytes, no_restart: bool, force: bool = True, reason: str = ""
    ) -> None:
        req = gcs_pb2.KillActorViaGcsRequest(
            actor_id=actor_id, no_restart=no_restart, force=force, reason=reason
        )
        self._call("KillActorViaGcs", req)

    def report_worker_failure(self, report: gcs_pb2.ReportWorkerFailureRequest) -> None:
        self._call("ReportWorkerFailure", report, 5.0)

    def publish(self, messages: list[gcs_pb2.PubMessage], timeout_s: float = 5.0) -> None:
        self._call("Publish", gcs_pb2.PublishRequest(messages=messages), timeout_s, retry=False)

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
                stream: Iterator[gcs_pb2.PubMessage] = self._stub.Subscribe(
                    gcs_pb2.SubscribeRequest(channels=channels, job_id=job_id), metadata=self._md
                )
                holder["stream"] = stream
                try:
                    for msg in stream:
                        live.set()
                        backoff = 0.05
                        if msg.channel:
                            on_message(msg)
                except grpc.RpcError as err:
                    if stop.is_set():
                        return
                    logger.debug("subscription ended: %s", err.code())
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
