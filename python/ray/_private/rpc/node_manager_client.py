"""Typed client of a node manager (node_manager.proto)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc

from ray._private import constants
from ray._private.generated import common_pb2, node_manager_pb2_grpc
from ray._private.generated import node_manager_pb2 as pb
from ray._private.rpc import chunk_codec, errors
from ray._private.rpc.client import ReplyCallback, ServiceClient

logger = logging.getLogger(__name__)


class ObjectChunks:
    """The replies of one ReadObject call, in order; `cancel()` ends it from any thread.

    Iterating raises `errors.RpcFailure` (never a raw `grpc.RpcError`); after `cancel()`
    it raises `errors.Cancelled`.
    """

    def __init__(self, call: Any, failure: Callable[[grpc.RpcError], errors.RpcFailure]) -> None:
        self._call = call
        self._failure = failure

    def __iter__(self) -> Iterator[chunk_codec.ObjectChunk]:
        return self

    def __next__(self) -> chunk_codec.ObjectChunk:
        try:
            return next(self._call)
        except grpc.RpcError as err:
            raise self._failure(err) from None

    def cancel(self) -> None:
        self._call.cancel()


class NodeManagerClient(ServiceClient):
    """Talks to the node manager at `address` (HOST:PORT)."""

    SERVICE = "node manager"
    STUB = node_manager_pb2_grpc.NodeManagerServiceStub

    def request_lease_async(
        self, request: pb.RequestWorkerLeaseRequest, timeout_s: float, callback: ReplyCallback
    ) -> None:
        self._call_async("RequestWorkerLease", request, timeout_s, callback)

    def request_lease(
        self, request: pb.RequestWorkerLeaseRequest, timeout_s: float
    ) -> pb.RequestWorkerLeaseReply:
        return self._call("RequestWorkerLease", request, timeout_s)

    def cancel_lease(self, lease_id: bytes) -> bool:
        reply = self._call(
            "CancelWorkerLease",
            pb.CancelWorkerLeaseRequest(lease_id=lease_id),
            constants.RPC_TIMEOUT_S,
        )
        return reply.canceled

    def return_worker(self, lease_id: bytes, disconnect: bool = False) -> None:
        """Fire and forget: the node also ends leases whose holder is gone."""
        self._call_async(
            "ReturnWorker",
            pb.ReturnWorkerRequest(lease_id=lease_id, disconnect_worker=disconnect),
            constants.RPC_TIMEOUT_S,
            None,
        )

    def register_worker(self, request: pb.RegisterWorkerRequest) -> pb.RegisterWorkerReply:
        return self._call("RegisterWorker", request, constants.RPC_TIMEOUT_S, True)

    def notify_blocked(self, worker_id: bytes, blocked: bool) -> None:
        self._call(
            "NotifyWorkerBlocked",
            pb.NotifyWorkerBlockedRequest(worker_id=worker_id, blocked=blocked),
            constants.RPC_TIMEOUT_S,
        )

    def failure_cause(
        self, worker_id: bytes, timeout_s: float = 5.0
    ) -> common_pb2.WorkerExitInfo | None:
        """How a worker died; None if the node does not know (or did not answer)."""
        try:
            reply = self._call(
                "GetWorkerFailureCause",
                pb.GetWorkerFailureCauseRequest(
                    worker_id=worker_id, timeout_ms=int(timeout_s * 1000)
                ),
                timeout_s + 5,
            )
        except errors.RpcFailure as err:
            logger.debug("no failure cause for worker: %s", err)
            return None
        return reply.exit_info

    def kill_worker(self, worker_id: bytes, force: bool, reason: str = "") -> None:
        self._call(
            "KillWorker",
            pb.KillWorkerRequest(worker_id=worker_id, force=force, reason=reason),
            constants.RPC_TIMEOUT_S,
        )

    def create_object(
        self,
        object_id: bytes,
        size: int,
        owner: common_pb2.Address,
        writer: common_pb2.Address | None = None,
    ) -> str:
        """Reserves room for an object; returns the path to write it to.

        Raises:
            errors.ResourceExhausted: It does not fit even after spilling.
            errors.AlreadyExists: The object was created already.
        """
        request = pb.CreateObjectRequest(object_id=object_id, size_bytes=size, owner_address=owner)
        if writer is not None:
            request.writer_address.CopyFrom(writer)
        return self._call("CreateObject", request, constants.RPC_TIMEOUT_S * 4).path

    def abort_object(self, object_id: bytes) -> None:
        """Fire and forget: drops a creation that will not be sealed."""
        self._call_async(
            "AbortObject",
            pb.AbortObjectRequest(object_id=object_id),
            constants.RPC_TIMEOUT_S,
            None,
        )

    def put_object(
        self, object_id: bytes, size: int, owner: common_pb2.Address, writer: common_pb2.Address
    ) -> str:
        """Hands in (pinned, sealed) an object the writer wrote in the store folder (PutObject).

        Raises:
            errors.ResourceExhausted: It does not fit even after spilling.
            errors.NotFound: No written file of that size (write it again through create).
            errors.AlreadyExists: The object exists already.
        """
        request = pb.PutObjectRequest(
            object_id=object_id, size_bytes=size, pin=True, owner_address=owner
        )
        request.writer_address.CopyFrom(writer)
        return self._call("PutObject", request, constants.RPC_TIMEOUT_S * 4).path

    def seal_object(self, object_id: bytes, pin: bool, owner: common_pb2.Address) -> None:
        self._call(
            "SealObject",
            pb.SealObjectRequest(object_id=object_id, pin=pin, owner_address=owner),
            constants.RPC_TIMEOUT_S,
        )

    def get_objects(
        self,
        object_ids: list[bytes],
        owners: Sequence[common_pb2.Address] = (),
        locations: Sequence[bytes] = (),
        timeout_s: float | None = None,
    ) -> list[pb.ObjectLocation]:
        """Where this node's store holds objects, pulling those it lacks from `locations`.

        Args:
            object_ids: The objects to read. An id may repeat: each entry names one more
                node that may hold it (tried in order); every entry gets an answer.
            owners: The owner of each entry (same order), recorded with a pulled copy.
            locations: For each entry, a node that holds a copy (same order; may be empty:
                then only the local store is looked at).
            timeout_s: How long pulls may take (default: the node's own limit).

        Returns:
            One location per entry: `found` is False when no copy could be read.

        Raises:
            errors.DeadlineExceeded: The pulls did not finish within `timeout_s`.
            errors.ResourceExhausted: This node's store has no room for a pulled copy.
        """
        request = pb.GetObjectsRequest(
            object_ids=object_ids, owner_addresses=owners, location_node_ids=locations
        )
        deadline_s = constants.RPC_TIMEOUT_S * 4
        if timeout_s is not None:
            request.timeout_ms = max(1, int(timeout_s * 1000))
            deadline_s = max(deadline_s, timeout_s + constants.RPC_TIMEOUT_S)
        elif locations:
            deadline_s = constants.OBJECT_PULL_TIMEOUT_S + constants.RPC_TIMEOUT_S
        reply = self._call("GetObjects", request, deadline_s)
        return list(reply.objects)

    def __init__(self, address: str, token: str) -> None:
        super().__init__(address, token)
        # Chunks skip protobuf's copies: the data stays a view into the received bytes.
        self._read_object = self._channel.unary_stream(
            "/ray.rpc.NodeManagerService/ReadObject",
            request_serializer=pb.ReadObjectRequest.SerializeToString,
            response_deserializer=chunk_codec.decode_reply,
        )

    def read_object(
        self,
        object_id: bytes,
        chunk_bytes: int,
        timeout_s: float,
        offset_bytes: int = 0,
        length_bytes: int = 0,
    ) -> ObjectChunks:
        """Starts streaming a sealed object's bytes, or one range of them, from that node.

        Args:
            object_id: The object to read.
            chunk_bytes: Preferred chunk size (the node may send smaller chunks).
            timeout_s: Deadline of the whole stream.
            offset_bytes: Where the range starts.
            length_bytes: The range's length (0: to the object's end).

        Returns:
            The chunks, in order; failures surface as `errors.RpcFailure` while iterating
            (`errors.NotFound` if the node has no copy).
        """
        call = self._read_object(
            pb.ReadObjectRequest(
                object_id=object_id,
                chunk_bytes=chunk_bytes,
                offset_bytes=offset_bytes,
                length_bytes=length_bytes,
            ),
            timeout=timeout_s,
            metadata=self._md,
        )
        return ObjectChunks(call, self._failure)

    def free_objects(self, object_ids: list[bytes]) -> None:
        """Fire and forget."""
        self._call_async(
            "FreeObjects",
            pb.FreeObjectsRequest(object_ids=object_ids),
            constants.RPC_TIMEOUT_S,
            None,
        )

    def stats(self, timeout_s: float = constants.RPC_TIMEOUT_S) -> pb.GetNodeStatsReply:
        return self._call("GetNodeStats", pb.GetNodeStatsRequest(), timeout_s)

    def start_client_session(
        self, request: pb.StartClientSessionRequest
    ) -> pb.StartClientSessionReply:
        """Starts a client session's owner on that node (it may take a few seconds)."""
        return self._call(
            "StartClientSession",
            request,
            constants.SESSION_START_TIMEOUT_S + constants.RPC_TIMEOUT_S,
        )

    def flush_worker_output(self, job_id: bytes, timeout_s: float) -> int:
        """Has the node publish what its workers of `job_id` wrote so far; returns the lines read."""
        reply = self._call(
            "FlushWorkerOutput",
            pb.FlushWorkerOutputRequest(job_id=job_id, timeout_ms=int(timeout_s * 1000)),
            timeout_s + 1.0,
        )
        return reply.num_lines

    def shutdown(self, timeout_s: float = 5.0) -> None:
        self._call("ShutdownNode", pb.ShutdownNodeRequest(), timeout_s)

    def report_metrics(
        self, records: Sequence[pb.MetricRecord], worker_id: bytes, timeout_s: float
    ) -> None:
        """Sends the metric values recorded since the last report (raises RpcFailure)."""
        self._call(
            "ReportMetrics",
            pb.ReportMetricsRequest(worker_id=worker_id, records=records),
            timeout_s,
        )

    def prepare_bundles(
        self, bundles: list[common_pb2.Bundle], timeout_s: float = constants.RPC_TIMEOUT_S
    ) -> None:
        """Raises errors.ResourceExhausted when they do not fit now, RpcFailure otherwise."""
        self._call(
            "PrepareBundleResources", pb.PrepareBundleResourcesRequest(bundles=bundles), timeout_s
        )

    def commit_bundles(
        self,
        placement_group_id: bytes,
        indexes: list[int],
        timeout_s: float = constants.RPC_TIMEOUT_S,
    ) -> None:
        request = pb.CommitBundleResourcesRequest(
            placement_group_id=placement_group_id, bundle_indexes=indexes
        )
        self._call("CommitBundleResources", request, timeout_s)

    def return_bundles(
        self,
        placement_group_id: bytes,
        indexes: list[int] = (),
        timeout_s: float = constants.RPC_TIMEOUT_S,
    ) -> None:
        request = pb.ReturnBundleResourcesRequest(
            placement_group_id=placement_group_id, bundle_indexes=list(indexes)
        )
        self._call("ReturnBundleResources", request, timeout_s, True)
