"""The placement group rpcs of the GCS servicer (a mixin of `GcsServicer`): thin adapters
over `PlacementGroupManager`."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict

import grpc

from ray._private import constants
from ray._private.gcs.placement_group_manager import (
    CREATED,
    REMOVED,
    InvalidPlacementGroup,
    PlacementGroupNameTaken,
)
from ray._private.generated import gcs_pb2
from ray._private.rpc.errors import shorten

logger = logging.getLogger(__name__)


class PlacementGroupServicer:
    """Needs `self._gcs` (the GcsServer) and `self._loop`; call `_init_placement_groups()`."""

    def _init_placement_groups(self) -> None:
        self._pg_waiters: dict[bytes, list[asyncio.Future]] = defaultdict(list)
        self._gcs.placement_groups.add_listener(self._pg_changed)

    def _pg_changed(self, pg_id: bytes) -> None:
        self._loop.call_soon_threadsafe(self._pg_wake, pg_id)

    def _pg_wake(self, pg_id: bytes) -> None:
        for fut in self._pg_waiters.pop(pg_id, ()):
            if not fut.done():
                fut.set_result(None)

    async def CreatePlacementGroup(self, request, context):  # noqa: N802
        for bundle in request.placement_group.bundles:
            for name, value in bundle.resources.items():
                if not math.isfinite(value) or value < 0:
                    await context.abort(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"resource {shorten(name, 64)!r} must be a finite number >= 0, got {value}",
                    )
        try:
            self._gcs.placement_groups.create(request.placement_group)
        except PlacementGroupNameTaken as err:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, str(err))
        except InvalidPlacementGroup as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        return gcs_pb2.CreatePlacementGroupReply()

    async def RemovePlacementGroup(self, request, context):  # noqa: N802
        # Returning bundles asks node managers: not on the loop.
        found = await asyncio.to_thread(
            self._gcs.placement_groups.remove, request.placement_group_id
        )
        if not found:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"unknown placement group {shorten(request.placement_group_id.hex(), 64)}",
            )
        return gcs_pb2.RemovePlacementGroupReply()

    async def GetPlacementGroup(self, request, context):  # noqa: N802
        pgs = self._gcs.placement_groups
        if request.placement_group_id:
            info = pgs.get(request.placement_group_id)
            what = f"id {shorten(request.placement_group_id.hex(), 64)}"
        else:
            info = pgs.get_by_name(request.name, request.ray_namespace)
            what = (
                f"name {shorten(request.name, 100)!r} in namespace "
                f"{shorten(request.ray_namespace, 100)!r}"
            )
        if info is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no placement group with {what}")
        return gcs_pb2.GetPlacementGroupReply(placement_group=info)

    async def ListPlacementGroups(self, request, context):  # noqa: N802
        return gcs_pb2.ListPlacementGroupsReply(placement_groups=self._gcs.placement_groups.all())

    async def WaitPlacementGroupUntilReady(self, request, context):  # noqa: N802
        pgs = self._gcs.placement_groups
        pg_id = request.placement_group_id
        wait_s = min(max(request.timeout_ms, 0) / 1000, constants.LONG_POLL_S * 2)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            info = pgs.get(pg_id)
            if info is None:
                await context.abort(
                    grpc.StatusCode.NOT_FOUND,
                    f"unknown placement group {shorten(pg_id.hex(), 64)}",
                )
            left = deadline - loop.time()
            if info.state in (CREATED, REMOVED) or left <= 0:
                return gcs_pb2.WaitPlacementGroupUntilReadyReply(
                    ready=info.state == CREATED, state=info.state
                )
            fut = self._loop.create_future()
            self._pg_waiters[pg_id].append(fut)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                pass
            finally:
                waiters = self._pg_waiters.get(pg_id)
                if waiters is not None and fut in waiters:
                    waiters.remove(fut)
                    if not waiters:
                        del self._pg_waiters[pg_id]
