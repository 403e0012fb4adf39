"""The GCS gRPC servicer: a thin adapter over the tables."""

from __future__ import annotations

import logging
import queue

import grpc

from ray._private.gcs.actor_manager import NameTakenError
from ray._private.gcs.server import GcsServer
from ray._private.generated import gcs_pb2, gcs_pb2_grpc

logger = logging.getLogger(__name__)


class GcsServicer(gcs_pb2_grpc.GcsServiceServicer):
    """Validates and decodes requests, then calls into `GcsServer`."""

    def __init__(self, gcs: GcsServer) -> None:
        self._gcs = gcs

    def GetClusterInfo(self, request, context):  # noqa: N802
        return self._gcs.cluster_info()

    def RegisterNode(self, request, context):  # noqa: N802
        if not request.node.node_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "node_id is required")
        self._gcs.nodes.register(request.node)
        return gcs_pb2.RegisterNodeReply()

    def UnregisterNode(self, request, context):  # noqa: N802
        if self._gcs.nodes.get(request.node_id) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown node")
        self._gcs.node_died(request.node_id, request.reason or "unregistered")
        return gcs_pb2.UnregisterNodeReply()

    def ReportHeartbeat(self, request, context):  # noqa: N802
        if not self._gcs.nodes.heartbeat(request.node_id, dict(request.available)):
            context.abort(grpc.StatusCode.NOT_FOUND, "node is unknown or was declared dead")
        return gcs_pb2.ReportHeartbeatReply()

    def GetAllNodes(self, request, context):  # noqa: N802
        return gcs_pb2.GetAllNodesReply(nodes=self._gcs.nodes.all())

    def RegisterJob(self, request, context):  # noqa: N802
        entry = self._gcs.jobs.add(request.driver_address, request.driver_pid, request.job_config)
        return gcs_pb2.RegisterJobReply(job_id=entry.job_id)

    def GetJobConfig(self, request, context):  # noqa: N802
        entry = self._gcs.jobs.get(request.job_id)
        if entry is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown job {request.job_id.hex()[:16]}")
        return gcs_pb2.GetJobConfigReply(job_config=entry.config)

    def MarkJobFinished(self, request, context):  # noqa: N802
        if self._gcs.jobs.get(request.job_id) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown job")
        self._gcs.job_finished(request.job_id)
        return gcs_pb2.MarkJobFinishedReply()

    def KvPut(self, request, context):  # noqa: N802
        added = self._gcs.kv.put(request.namespace, request.key, request.value, request.overwrite)
        return gcs_pb2.KvPutReply(added=added)

    def KvGet(self, request, context):  # noqa: N802
        reply = gcs_pb2.KvGetReply()
        for key in request.keys:
            value = self._gcs.kv.get(request.namespace, key)
            if value is not None:
                reply.entries.add(key=key, value=value)
        return reply

    def KvDel(self, request, context):  # noqa: N802
        n = self._gcs.kv.delete(request.namespace, request.key, request.by_prefix)
        return gcs_pb2.KvDelReply(deleted_count=n)

    def KvKeys(self, request, context):  # noqa: N802
        return gcs_pb2.KvKeysReply(keys=self._gcs.kv.keys(request.namespace, request.prefix))

    def CreateActor(self, request, context):  # noqa: N802
        if not request.creation_spec.actor_creation.actor_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "actor_id is required")
        try:
            return self._gcs.actors.create_actor(request)
        except NameTakenError as err:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, str(err))

    def GetActorInfo(self, request, context):  # noqa: N802
        info = self._gcs.actors.get_actor_info(request.actor_id, request.wait_timeout_ms / 1000)
        if info is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown actor {request.actor_id.hex()}")
        return gcs_pb2.GetActorInfoReply(actor=info)

    def GetNamedActor(self, request, context):  # noqa: N802
        info = self._gcs.actors.get_named_actor(request.name, request.ray_namespace)
        if info is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"no live actor named {request.name!r} in namespace {request.ray_namespace!r}",
            )
        return gcs_pb2.GetNamedActorReply(actor=info)

    def ListNamedActors(self, request, context):  # noqa: N802
        actors = self._gcs.actors.list_named_actors(request.ray_namespace, request.all_namespaces)
        return gcs_pb2.ListNamedActorsReply(actors=actors)

    def KillActorViaGcs(self, request, context):  # noqa: N802
        if not self._gcs.actors.kill_actor(
            request.actor_id, request.no_restart, request.force, request.reason
        ):
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown actor {request.actor_id.hex()}")
        return gcs_pb2.KillActorViaGcsReply()

    def ReportWorkerFailure(self, request, context):  # noqa: N802
        self._gcs.worker_failed(request)
        return gcs_pb2.ReportWorkerFailureReply()

    def Publish(self, request, context):  # noqa: N802
        for msg in request.messages:
            self._gcs.publisher.publish(msg)
        return gcs_pb2.PublishReply()

    def Subscribe(self, request, context):  # noqa: N802
        sub = self._gcs.publisher.subscribe(request.channels, request.job_id)
        try:
            # An empty first reply tells the subscriber the subscription is live.
            yield gcs_pb2.SubscribeReply()
            while context.is_active():
                try:
                    msg = sub.queue.get(timeout=1.0)
                except queue.Empty:
                    continue
                reply = gcs_pb2.SubscribeReply()
                while msg is not None:
                    reply.messages.append(msg)
                    try:
                        msg = sub.queue.get_nowait()
                    except queue.Empty:
                        break
                if reply.messages:
                    yield reply
                if msg is None:
                    return
        finally:
            self._gcs.publisher.unsubscribe(sub)
