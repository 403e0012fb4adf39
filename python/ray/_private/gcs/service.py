"""The GCS gRPC servicer (asyncio): a thin adapter over the tables.

Every handler is a coroutine on the server's one event loop. Table operations are
short and run inline; long-lived calls (subscriptions, GetActorInfo long-polls)
wait on the loop without holding a thread, so heartbeats and node registration
are served however many drivers subscribe and actors wait. Handlers that may
block on another process (killing workers) run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict

import grpc

from ray._private import constants
from ray._private.gcs.actor_manager import NameTakenError
from ray._private.gcs.placement_group_service import PlacementGroupServicer
from ray._private.gcs.server import GcsServer
from ray._private.generated import gcs_pb2, gcs_pb2_grpc
from ray._private.rpc.errors import shorten

logger = logging.getLogger(__name__)


def _hex(data: bytes) -> str:
    return shorten(data.hex(), 64)


class GcsServicer(PlacementGroupServicer, gcs_pb2_grpc.GcsServiceServicer):
    """Validates and decodes requests, then calls into `GcsServer`."""

    def __init__(self, gcs: GcsServer, loop: asyncio.AbstractEventLoop) -> None:
        self._gcs = gcs
        self._loop = loop
        self._actor_waiters: dict[bytes, list[asyncio.Future]] = defaultdict(list)
        gcs.actors.add_listener(self._actor_changed)
        self._init_placement_groups()

    def _actor_changed(self, actor_id: bytes) -> None:
        """Any thread: an actor's state changed; wake its long-polls (on the loop)."""
        self._loop.call_soon_threadsafe(self._wake, actor_id)

    def _wake(self, actor_id: bytes) -> None:
        for fut in self._actor_waiters.pop(actor_id, ()):
            if not fut.done():
                fut.set_result(None)

    async def GetClusterInfo(self, request, context):  # noqa: N802
        return self._gcs.cluster_info()

    async def RegisterNode(self, request, context):  # noqa: N802
        if not request.node.node_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "node_id is required")
        self._gcs.nodes.register(request.node)
        return gcs_pb2.RegisterNodeReply()

    async def UnregisterNode(self, request, context):  # noqa: N802
        if self._gcs.nodes.get(request.node_id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown node {_hex(request.node_id)}")
        self._gcs.node_died(request.node_id, shorten(request.reason, 200) or "unregistered")
        return gcs_pb2.UnregisterNodeReply()

    async def ReportHeartbeat(self, request, context):  # noqa: N802
        nodes = self._gcs.nodes.heartbeat(request.node_id, request.available, request.demand)
        if nodes is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "node is unknown or was declared dead")
        return gcs_pb2.ReportHeartbeatReply(nodes=nodes)

    async def GetAllNodes(self, request, context):  # noqa: N802
        return gcs_pb2.GetAllNodesReply(nodes=self._gcs.nodes.all())

    async def GetClusterStatus(self, request, context):  # noqa: N802
        return self._gcs.cluster_status()

    async def RegisterJob(self, request, context):  # noqa: N802
        entry = self._gcs.jobs.add(request.driver_address, request.driver_pid, request.job_config)
        return gcs_pb2.RegisterJobReply(job_id=entry.job_id)

    async def GetJobConfig(self, request, context):  # noqa: N802
        entry = self._gcs.jobs.get(request.job_id)
        if entry is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown job {_hex(request.job_id)}")
        return gcs_pb2.GetJobConfigReply(job_config=entry.config)

    async def MarkJobFinished(self, request, context):  # noqa: N802
        if self._gcs.jobs.get(request.job_id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown job {_hex(request.job_id)}")
        # Killing the job's actors asks their node managers: not on the loop.
        await asyncio.to_thread(self._gcs.job_finished, request.job_id)
        return gcs_pb2.MarkJobFinishedReply()

    async def KvPut(self, request, context):  # noqa: N802
        added = self._gcs.kv.put(request.namespace, request.key, request.value, request.overwrite)
        return gcs_pb2.KvPutReply(added=added)

    async def KvGet(self, request, context):  # noqa: N802
        reply = gcs_pb2.KvGetReply()
        for key in request.keys:
            value = self._gcs.kv.get(request.namespace, key)
            if value is not None:
                reply.entries.add(key=key, value=value)
        return reply

    async def KvDel(self, request, context):  # noqa: N802
        n = self._gcs.kv.delete(request.namespace, request.key, request.by_prefix)
        return gcs_pb2.KvDelReply(deleted_count=n)

    async def KvKeys(self, request, context):  # noqa: N802
        return gcs_pb2.KvKeysReply(keys=self._gcs.kv.keys(request.namespace, request.prefix))

    async def CreateActor(self, request, context):  # noqa: N802
        spec = request.creation_spec
        if not spec.actor_creation.actor_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "actor_id is required")
        for amounts in (spec.required_resources, spec.actor_creation.placement_resources):
            for name, value in amounts.items():
                if not math.isfinite(value) or value < 0:
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"resource {shorten(name, 64)!r} must be a finite number >= 0, got {value}",
                    )
        try:
            return self._gcs.actors.create_actor(request)
        except NameTakenError as err:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(err))

    async def GetActorInfo(self, request, context):  # noqa: N802
        actors = self._gcs.actors
        info = actors.get_actor_info(request.actor_id, 0)
        wait_s = min(max(request.wait_timeout_ms, 0) / 1000, constants.LONG_POLL_S * 2)
        if info is not None and wait_s > 0 and actors.is_waitable(info):
            fut = self._loop.create_future()
            self._actor_waiters[request.actor_id].append(fut)
            try:
                await asyncio.wait_for(fut, wait_s)
            except asyncio.TimeoutError:
                pass
            finally:
                waiters = self._actor_waiters.get(request.actor_id)
                if waiters is not None and fut in waiters:
                    waiters.remove(fut)
                    if not waiters:
                        del self._actor_waiters[request.actor_id]
            info = actors.get_actor_info(request.actor_id, 0)
        if info is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"unknown actor {_hex(request.actor_id)}"
            )
        return gcs_pb2.GetActorInfoReply(actor=info)

    async def GetNamedActor(self, request, context):  # noqa: N802
        info = self._gcs.actors.get_named_actor(request.name, request.ray_namespace)
        if info is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"no live actor named {shorten(request.name, 100)!r} in namespace "
                f"{shorten(request.ray_namespace, 100)!r}",
            )
        return gcs_pb2.GetNamedActorReply(actor=info)

    async def ListNamedActors(self, request, context):  # noqa: N802
        actors = self._gcs.actors.list_named_actors(request.ray_namespace, request.all_namespaces)
        return gcs_pb2.ListNamedActorsReply(actors=actors)

    async def KillActorViaGcs(self, request, context):  # noqa: N802
        found = await asyncio.to_thread(
            self._gcs.actors.kill_actor,
            request.actor_id,
            request.no_restart,
            request.force,
            shorten(request.reason, 200),
        )
        if not found:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"unknown actor {_hex(request.actor_id)}"
            )
        return gcs_pb2.KillActorViaGcsReply()

    async def ReportWorkerFailure(self, request, context):  # noqa: N802
        await asyncio.to_thread(self._gcs.worker_failed, request)
        return gcs_pb2.ReportWorkerFailureReply()

    async def Publish(self, request, context):  # noqa: N802
        for msg in request.messages:
            self._gcs.publisher.publish(msg)
        return gcs_pb2.PublishReply()

    async def Subscribe(self, request, context):  # noqa: N802
        sub = self._gcs.publisher.subscribe(request.channels, request.job_id, self._loop)
        try:
            # An empty first reply tells the subscriber the subscription is live.
            yield gcs_pb2.SubscribeReply()
            while True:
                msg = await sub.queue.get()
                reply = gcs_pb2.SubscribeReply()
                while msg is not None:
                    reply.messages.append(msg)
                    if sub.queue.empty():
                        break
                    msg = sub.queue.get_nowait()
                if reply.messages:
                    yield reply
                if msg is None:
                    return
        finally:
            self._gcs.publisher.unsubscribe(sub)
