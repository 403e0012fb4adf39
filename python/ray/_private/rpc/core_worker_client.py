"""Typed client of another process's core worker (core_worker.proto), and a pool of them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from ray._private import constants
from ray._private.generated import common_pb2, core_worker_pb2_grpc
from ray._private.generated import core_worker_pb2 as pb
from ray._private.rpc import errors
from ray._private.rpc.client import ReplyCallback, ServiceClient

logger = logging.getLogger(__name__)


def address_str(addr: common_pb2.Address) -> str:
    return f"{addr.ip_address}:{addr.port}"


class CoreWorkerClient(ServiceClient):
    """Talks to the core worker at `address` (a driver or a worker)."""

    SERVICE = "core worker"
    STUB = core_worker_pb2_grpc.CoreWorkerServiceStub

    def __init__(self, address: common_pb2.Address, token: str) -> None:
        super().__init__(address_str(address), token, address.worker_id)
        self.worker_address = address

    def push_task_async(
        self, request: pb.PushTaskRequest, callback: ReplyCallback, timeout_s: float | None = None
    ) -> None:
        """Runs a task there; `callback(reply, failure)` when it finished.

        Without `timeout_s` the call waits as long as the task runs (user code has no
        bound); a worker that dies breaks the connection, which fails the call.
        """
        self._call_async("PushTask", request, timeout_s, callback)

    def push_task(self, request: pb.PushTaskRequest, timeout_s: float) -> pb.PushTaskReply:
        """Runs a task there and waits for its reply (at most `timeout_s`)."""
        return self._call("PushTask", request, timeout_s)

    def open_push_stream(
        self, batches: Iterator[pb.PushTaskStreamRequest]
    ) -> Iterator[pb.PushTaskStreamReply]:
        """Opens a PushTaskStream that sends `batches`; iterate the result for the replies.

        Only `push_stream.PushStream` uses this: it owns the stream's error handling.
        """
        return self._stub.PushTaskStream(batches, metadata=self._md)

    def get_object_status_async(
        self, object_ids: list[bytes], wait_s: float, num_ready: int, callback: ReplyCallback
    ) -> None:
        req = pb.GetObjectStatusRequest(
            object_ids=object_ids, wait_timeout_ms=int(wait_s * 1000), num_ready=num_ready
        )
        self._call_async("GetObjectStatus", req, wait_s + constants.RPC_TIMEOUT_S, callback)

    def add_borrowers(
        self, object_ids: list[bytes], borrower: common_pb2.Address
    ) -> pb.AddBorrowersReply:
        req = pb.AddBorrowersRequest(object_ids=object_ids, borrower_address=borrower)
        return self._call("AddBorrowers", req, constants.RPC_TIMEOUT_S)

    def remove_borrowers(self, object_ids: list[bytes], borrower: common_pb2.Address) -> None:
        req = pb.RemoveBorrowersRequest(object_ids=object_ids, borrower_address=borrower)
        self._call("RemoveBorrowers", req, constants.RPC_TIMEOUT_S)

    def cancel_task(self, task_id: bytes, force: bool, recursive: bool) -> None:
        """Fire and forget: a task that already finished is not affected."""
        req = pb.CancelTaskRequest(task_id=task_id, force=force, recursive=recursive)
        self._call_async("CancelTask", req, constants.RPC_TIMEOUT_S, None)

    def kill_actor(self, actor_id: bytes, force: bool, reason: str) -> None:
        req = pb.KillActorRequest(actor_id=actor_id, force=force, reason=reason)
        self._call("KillActor", req, 5.0)

    def exit(self, force: bool) -> bool:
        return self._call("Exit", pb.ExitRequest(force=force), constants.RPC_TIMEOUT_S).will_exit

    def report_generator_item_returns(
        self, request: pb.ReportGeneratorItemReturnsRequest, timeout_s: float
    ) -> pb.ReportGeneratorItemReturnsReply:
        """Reports yielded values to their owner; may wait (backpressure) up to the request's
        wait_timeout_ms, so the deadline covers that too."""
        wait_s = request.wait_timeout_ms / 1000
        return self._call("ReportGeneratorItemReturns", request, timeout_s + wait_s)

    def is_gone(self, timeout_s: float = 2.0) -> bool:
        """True if the process is certainly gone (its port refuses connections).

        A slow or busy process is not gone: only Unavailable counts.
        """
        try:
            self._call("GetObjectStatus", pb.GetObjectStatusRequest(), timeout_s)
        except errors.Unavailable:
            return True
        except errors.RpcFailure:
            return False
        return False


class CoreWorkerClients:
    """One client per worker address, shared by a process's parts."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._lock = threading.Lock()
        self._clients: dict[bytes, CoreWorkerClient] = {}

    def get(self, address: common_pb2.Address) -> CoreWorkerClient:
        key = address.worker_id or address_str(address).encode()
        client = self._clients.get(key)
        if client is None or client.worker_address.port != address.port:
            with self._lock:
                client = CoreWorkerClient(address, self._token)
                self._clients[key] = client
        return client
