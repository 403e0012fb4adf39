"""The node manager's gRPC servicer: a thin adapter over `NodeManager`."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator

import grpc

from ray._private import process
from ray._private.generated import node_manager_pb2 as pb
from ray._private.generated import node_manager_pb2_grpc
from ray._private.node_manager.bundle_reservations import BundleError
from ray._private.node_manager.client_sessions import SessionStartError
from ray._private.node_manager.metrics_export import MalformedReportError
from ray._private.node_manager.node_manager import NodeManager
from ray._private.node_manager.object_transfer import PullTimeoutError, RangeError
from ray._private.object_store import ObjectExistsError, ObjectStoreFullError
from ray._private.rpc.errors import shorten

logger = logging.getLogger(__name__)


class NodeManagerServicer(node_manager_pb2_grpc.NodeManagerServiceServicer):
    def __init__(self, nm: NodeManager, on_shutdown: process.StopRequest) -> None:
        self._nm = nm
        self._on_shutdown = on_shutdown

    def RequestWorkerLease(self, request, context):  # noqa: N802
        if not request.lease_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "lease_id is required")
        for field in (request.resources, request.placement_resources):
            for name, value in field.items():
                if not math.isfinite(value) or value < 0:
                    context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"resource {shorten(name, 64)!r} must be a finite number >= 0, got {value}",
                    )
        return self._nm.request_lease(request)

    def CancelWorkerLease(self, request, context):  # noqa: N802
        return pb.CancelWorkerLeaseReply(canceled=self._nm.cancel_lease(request.lease_id))

    def ReturnWorker(self, request, context):  # noqa: N802
        self._nm.return_worker(request.lease_id, request.disconnect_worker)
        return pb.ReturnWorkerReply()

    def RegisterWorker(self, request, context):  # noqa: N802
        if not self._nm.register_worker(request):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "this node did not start that worker")
        return pb.RegisterWorkerReply(node_id=self._nm.node_id, store_dir=self._nm.store_dir)

    def NotifyWorkerBlocked(self, request, context):  # noqa: N802
        self._nm.notify_blocked(request.worker_id, request.blocked)
        return pb.NotifyWorkerBlockedReply()

    def GetWorkerFailureCause(self, request, context):  # noqa: N802
        info = self._nm.failure_cause(request.worker_id, min(request.timeout_ms, 30_000) / 1000)
        if info is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "no exit recorded for that worker")
        return pb.GetWorkerFailureCauseReply(exit_info=info)

    def KillWorker(self, request, context):  # noqa: N802
        self._nm.kill_worker(request.worker_id, request.force)
        return pb.KillWorkerReply()

    def CreateObject(self, request, context):  # noqa: N802
        if request.size_bytes < 0 or not request.object_id:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "object_id and size_bytes >= 0 required"
            )
        with _creation_errors(context):
            path = self._nm.objects.create(
                request.object_id,
                request.size_bytes,
                request.owner_address if request.HasField("owner_address") else None,
                request.writer_address if request.HasField("writer_address") else None,
            )
        return pb.CreateObjectReply(path=path)

    def AbortObject(self, request, context):  # noqa: N802
        return pb.AbortObjectReply(aborted=self._nm.objects.abort(request.object_id))

    def SealObject(self, request, context):  # noqa: N802
        try:
            self._nm.objects.seal(
                request.object_id,
                request.pin,
                request.owner_address if request.HasField("owner_address") else None,
            )
        except KeyError:
            context.abort(grpc.StatusCode.NOT_FOUND, "object was never created (or was freed)")
        return pb.SealObjectReply()

    def PutObject(self, request, context):  # noqa: N802
        if request.size_bytes < 0 or not request.object_id or not request.writer_address.worker_id:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "object_id, writer_address.worker_id and size_bytes >= 0 required",
            )
        try:
            with _creation_errors(context):
                path = self._nm.objects.put_written(
                    request.object_id,
                    request.size_bytes,
                    request.pin,
                    request.owner_address if request.HasField("owner_address") else None,
                    request.writer_address.worker_id,
                )
        except FileNotFoundError as err:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no written object file to put: {err}")
        return pb.PutObjectReply(path=path)

    def GetObjects(self, request, context):  # noqa: N802
        n = len(request.object_ids)
        if len(request.owner_addresses) not in (0, n) or len(request.location_node_ids) not in (
            0,
            n,
        ):
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "owner_addresses and location_node_ids must be empty or one per object_id",
            )
        try:
            objects = self._nm.transfer.get_objects(
                request.object_ids,
                request.owner_addresses,
                request.location_node_ids,
                request.timeout_ms / 1000 if request.timeout_ms > 0 else None,
            )
        except ObjectStoreFullError as err:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))
        except PullTimeoutError as err:
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(err))
        return pb.GetObjectsReply(objects=objects)

    def ReadObject(self, request, context):  # noqa: N802
        if not request.object_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "object_id is required")
        try:
            return self._nm.transfer.serve(
                request.object_id, request.chunk_bytes, request.offset_bytes, request.length_bytes
            )
        except RangeError as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        except KeyError:
            context.abort(grpc.StatusCode.NOT_FOUND, "no sealed copy of the object on this node")
        except ObjectStoreFullError as err:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))

    def FreeObjects(self, request, context):  # noqa: N802
        self._nm.objects.free(request.object_ids)
        return pb.FreeObjectsReply()

    def GetNodeStats(self, request, context):  # noqa: N802
        return self._nm.stats()

    def StartClientSession(self, request, context):  # noqa: N802
        if not request.session_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "session_id is required")
        if self._nm.sessions is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the node is still starting")
        try:
            return self._nm.sessions.start(request)
        except SessionStartError as err:
            context.abort(grpc.StatusCode.UNAVAILABLE, shorten(str(err), 4000))

    def FlushWorkerOutput(self, request, context):  # noqa: N802
        timeout_s = min(max(request.timeout_ms, 0), 60_000) / 1000 or 2.0
        return pb.FlushWorkerOutputReply(
            num_lines=self._nm.flush_worker_output(request.job_id, timeout_s)
        )

    def ShutdownNode(self, request, context):  # noqa: N802
        self._on_shutdown.set()
        return pb.ShutdownNodeReply()

    def ReportMetrics(self, request, context):  # noqa: N802
        try:
            self._nm.metrics.apply(list(request.records))
        except MalformedReportError as err:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, shorten(str(err), 4000))
        return pb.ReportMetricsReply()

    def PrepareBundleResources(self, request, context):  # noqa: N802
        for bundle in request.bundles:
            if not bundle.placement_group_id:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "placement_group_id is required")
            for name, value in bundle.resources.items():
                if not math.isfinite(value) or value < 0:
                    context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"resource {shorten(name, 64)!r} must be a finite number >= 0, got {value}",
                    )
        try:
            self._nm.prepare_bundles(list(request.bundles))
        except BundleError as err:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))
        return pb.PrepareBundleResourcesReply()

    def CommitBundleResources(self, request, context):  # noqa: N802
        try:
            self._nm.commit_bundles(request.placement_group_id, list(request.bundle_indexes))
        except BundleError as err:
            context.abort(grpc.StatusCode.NOT_FOUND, str(err))
        return pb.CommitBundleResourcesReply()

    def ReturnBundleResources(self, request, context):  # noqa: N802
        self._nm.return_bundles(request.placement_group_id, list(request.bundle_indexes))
        return pb.ReturnBundleResourcesReply()


@contextlib.contextmanager
def _creation_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """Maps the store's refusals of a new object to status codes (CreateObject, PutObject)."""
    try:
        yield
    except ObjectExistsError:
        context.abort(grpc.StatusCode.ALREADY_EXISTS, "object exists")
    except ObjectStoreFullError as err:
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(err))
