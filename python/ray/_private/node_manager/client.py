"""Typed client of a node manager."""

from __future__ import annotations

import logging

import grpc

from ray._private import constants, rpc
from ray._private.generated import common_pb2, gcs_pb2, node_manager_pb2_grpc
from ray._private.generated import node_manager_pb2 as pb

logger = logging.getLogger(__name__)


class NodeManagerClient:
    """Talks to the node manager at `address`."""

    def __init__(self, address: str, token: str) -> None:
        self.address = address
        self._md = rpc.token_metadata(token)
        self.stub = node_manager_pb2_grpc.NodeManagerServiceStub(rpc.CHANNELS.get(address))

    @property
    def metadata(self) -> tuple:
        return self._md

    def request_lease_future(
        self, request: pb.RequestWorkerLeaseRequest, timeout_s: float
    ) -> grpc.Future:
        return rpc.keep(
            self.stub.RequestWorkerLease.future(request, timeout=timeout_s, metadata=self._md)
        )

    def request_lease(
        self, request: pb.RequestWorkerLeaseRequest, timeout_s: float
    ) -> pb.RequestWorkerLeaseReply:
        return self.stub.RequestWorkerLease(request, timeout=timeout_s, metadata=self._md)

    def cancel_lease(self, lease_id: bytes) -> None:
        self.stub.CancelWorkerLease(
            pb.CancelWorkerLeaseRequest(lease_id=lease_id),
            timeout=constants.RPC_TIMEOUT_S,
            metadata=self._md,
        )

    def return_worker(self, lease_id: bytes, disconnect: bool = False) -> grpc.Future:
        return rpc.keep(
            self.stub.ReturnWorker.future(
                pb.ReturnWorkerRequest(lease_id=lease_id, disconnect_worker=disconnect),
                timeout=constants.RPC_TIMEOUT_S,
                metadata=self._md,
            )
        )

    def register_worker(self, request: pb.RegisterWorkerRequest) -> bytes:
        reply = rpc.call_with_retry(
            lambda left: self.stub.RegisterWorker(request, timeout=left, metadata=self._md),
            "node manager RegisterWorker",
        )
        return reply.node_id

    def notify_blocked(self, worker_id: bytes, blocked: bool) -> None:
        self.stub.NotifyWorkerBlocked(
            pb.NotifyWorkerBlockedRequest(worker_id=worker_id, blocked=blocked),
            timeout=constants.RPC_TIMEOUT_S,
            metadata=self._md,
        )

    def failure_cause(
        self, worker_id: bytes, timeout_s: float = 5.0
    ) -> gcs_pb2.WorkerExitInfo | None:
        try:
            reply = self.stub.GetWorkerFailureCause(
                pb.GetWorkerFailureCauseRequest(
                    worker_id=worker_id, timeout_ms=int(timeout_s * 1000)
                ),
                timeout=timeout_s + 5,
                metadata=self._md,
            )
        except grpc.RpcError as err:
            logger.debug("no failure cause for worker: %s", err.code())
            return None
        return reply.exit_info

    def kill_worker(self, worker_id: bytes, force: bool, reason: str = "") -> None:
        self.stub.KillWorker(
            pb.KillWorkerRequest(worker_id=worker_id, force=force, reason=reason),
            timeout=constants.RPC_TIMEOUT_S,
            metadata=self._md,
        )

    def create_object(self, object_id: bytes, size: int, owner: common_pb2.Address) -> str:
        reply = self.stub.CreateObject(
            pb.CreateObjectRequest(object_id=object_id, size_bytes=size, owner_address=owner),
            timeout=constants.RPC_TIMEOUT_S * 4,
            metadata=self._md,
        )
        return reply.path

    def seal_object(self, object_id: bytes, pin: bool, owner: common_pb2.Address) -> None:
        self.stub.SealObject(
            pb.SealObjectRequest(object_id=object_id, pin=pin, owner_address=owner),
            timeout=constants.RPC_TIMEOUT_S,
            metadata=self._md,
        )

    def get_objects(self, object_ids: list[bytes]) -> list[pb.ObjectLocation]:
        reply = self.stub.GetObjects(
            pb.GetObjectsRequest(object_ids=object_ids),
            timeout=constants.RPC_TIMEOUT_S * 4,
            metadata=self._md,
        )
        return list(reply.objects)

    def free_objects(self, object_ids: list[bytes]) -> grpc.Future:
        return rpc.keep(
            self.stub.FreeObjects.future(
                pb.FreeObjectsRequest(object_ids=object_ids),
                timeout=constants.RPC_TIMEOUT_S,
                metadata=self._md,
            )
        )

    def stats(self, timeout_s: float = constants.RPC_TIMEOUT_S) -> pb.GetNodeStatsReply:
        return self.stub.GetNodeStats(
            pb.GetNodeStatsRequest(), timeout=timeout_s, metadata=self._md
        )

    def shutdown(self, timeout_s: float = 5.0) -> None:
        self.stub.ShutdownNode(pb.ShutdownNodeRequest(), timeout=timeout_s, metadata=self._md)
