"""Typed client of another process's core worker service."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc

from ray._private import constants, rpc
from ray._private.generated import common_pb2, core_worker_pb2_grpc
from ray._private.generated import core_worker_pb2 as pb

logger = logging.getLogger(__name__)


def address_str(addr: common_pb2.Address) -> str:
    return f"{addr.ip_address}:{addr.port}"


class CoreWorkerClient:
    """Talks to the core worker at `address`."""

    def __init__(self, address: common_pb2.Address, token_md: tuple) -> None:
        self.address = address
        self._md = token_md
        self.stub = core_worker_pb2_grpc.CoreWorkerServiceStub(
            rpc.CHANNELS.get(address_str(address))
        )

    def push_task_future(
        self, request: pb.PushTaskRequest, timeout_s: float | None = None
    ) -> grpc.Future:
        return rpc.keep(self.stub.PushTask.future(request, timeout=timeout_s, metadata=self._md))

    def push_task_stream(
        self, batches: Iterator[pb.PushTaskBatch]
    ) -> Iterator[pb.PushTaskReplyBatch]:
        """Opens a PushTaskStream that sends `batches`; iterate the result for the replies."""
        return self.stub.PushTaskStream(batches, metadata=self._md)

    def get_object_status_future(
        self, object_ids: list[bytes], wait_s: float, num_ready: int = 0
    ) -> grpc.Future:
        req = pb.GetObjectStatusRequest(
            object_ids=object_ids, wait_timeout_ms=int(wait_s * 1000), num_ready=num_ready
        )
        return rpc.keep(
            self.stub.GetObjectStatus.future(
                req, timeout=wait_s + constants.RPC_TIMEOUT_S, metadata=self._md
            )
        )

    def add_borrowers(
        self, object_ids: list[bytes], borrower: common_pb2.Address
    ) -> pb.AddBorrowersReply:
        req = pb.AddBorrowersRequest(object_ids=object_ids, borrower_address=borrower)
        return self.stub.AddBorrowers(req, timeout=constants.RPC_TIMEOUT_S, metadata=self._md)

    def remove_borrowers(self, object_ids: list[bytes], borrower: common_pb2.Address) -> None:
        req = pb.RemoveBorrowersRequest(object_ids=object_ids, borrower_address=borrower)
        self.stub.RemoveBorrowers(req, timeout=constants.RPC_TIMEOUT_S, metadata=self._md)

    def cancel_task(self, task_id: bytes, force: bool, recursive: bool) -> grpc.Future:
        req = pb.CancelTaskRequest(task_id=task_id, force=force, recursive=recursive)
        return rpc.keep(
            self.stub.CancelTask.future(req, timeout=constants.RPC_TIMEOUT_S, metadata=self._md)
        )

    def kill_actor(self, actor_id: bytes, force: bool, reason: str) -> None:
        req = pb.KillActorRequest(actor_id=actor_id, force=force, reason=reason)
        self.stub.KillActor(req, timeout=5.0, metadata=self._md)

    def is_gone(self, timeout_s: float = 2.0) -> bool:
        """True if the process is certainly gone (its port refuses connections).

        A slow or busy process is not gone: only UNAVAILABLE counts.
        """
        try:
            self.stub.GetObjectStatus(
                pb.GetObjectStatusRequest(), timeout=timeout_s, metadata=self._md
            )
        except grpc.RpcError as err:
            return err.code() == grpc.StatusCode.UNAVAILABLE
        return False
