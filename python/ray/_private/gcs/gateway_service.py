"""OpenSession at the cluster address: the GCS's part of the client gateway (client_gateway.proto).

The GCS picks a node (the one on the client's own address if there is one, else
the head), has its node manager start the session's owner, and tells the client
where to send everything else. The other rpcs of the service are the owner's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import grpc

from ray._private import constants, ids
from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import client_gateway_pb2_grpc, common_pb2, node_manager_pb2
from ray._private.rpc import errors as rpc_errors
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)

_LANGUAGES = (common_pb2.LANGUAGE_PYTHON, common_pb2.LANGUAGE_JAVA, common_pb2.LANGUAGE_CPP)


class GatewayBootstrapServicer(client_gateway_pb2_grpc.ClientGatewayServiceServicer):
    """Serves OpenSession; every other rpc belongs to the session owner's address.

    Args:
        alive_nodes: The alive nodes.
        node_manager: The client of the node manager at an address.
    """

    def __init__(
        self,
        alive_nodes: Callable[[], list[common_pb2.NodeInfo]],
        node_manager: Callable[[str], NodeManagerClient],
    ) -> None:
        self._alive_nodes = alive_nodes
        self._node_manager = node_manager

    async def OpenSession(self, request, context):  # noqa: N802
        if request.language not in _LANGUAGES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"language must be one of PYTHON, JAVA, CPP, got {request.language}",
            )
        config = request.job_config
        if any(not entry for entry in config.code_search_path):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "code_search_path has an empty entry"
            )
        if request.reconnect_grace_ms < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "reconnect_grace_ms must be >= 0")
        node = self._pick_node(request.client_ip_address)
        if node is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the cluster has no alive node")
        session_id = ids.new_unique_id()
        nm = self._node_manager(f"{node.node_manager_address}:{node.node_manager_port}")
        start = node_manager_pb2.StartClientSessionRequest(
            session_id=session_id,
            job_config=config,
            language=request.language,
            reconnect_grace_ms=request.reconnect_grace_ms
            or int(constants.SESSION_RECONNECT_GRACE_S * 1000),
        )
        try:
            # Starting the owner takes a moment: not on the event loop.
            reply = await asyncio.to_thread(nm.start_client_session, start)
        except rpc_errors.RpcFailure as err:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                f"the node {node.node_id.hex()[:12]} could not start the session: {err}",
            )
        logger.info(
            "client session %s (job %s) on node %s at %s",
            session_id.hex()[:12],
            reply.job_id.hex(),
            node.node_id.hex()[:12],
            reply.session_address,
        )
        return pb.OpenSessionReply(
            session_id=session_id,
            job_id=reply.job_id,
            session_address=reply.session_address,
            node_id=node.node_id,
            ray_namespace=reply.ray_namespace,
        )

    def _pick_node(self, client_ip: str) -> common_pb2.NodeInfo | None:
        nodes = self._alive_nodes()
        if not nodes:
            return None
        local = [n for n in nodes if client_ip and n.node_manager_address == client_ip]
        head = [n for n in nodes if n.is_head]
        return (local or head or nodes)[0]

    async def _elsewhere(self, context: grpc.aio.ServicerContext) -> None:
        await context.abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "this is the cluster address: after OpenSession, send calls to the session_address "
            "it returned",
        )

    async def KeepAlive(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def CloseSession(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def Put(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def PutStream(self, request_iterator, context):  # noqa: N802
        await self._elsewhere(context)

    async def Get(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def Wait(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def SubmitTask(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def StartActor(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def CallActor(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def Submit(self, request_iterator, context):  # noqa: N802
        await self._elsewhere(context)

    async def LookupActor(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def StopActor(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def AddReferences(self, request, context):  # noqa: N802
        await self._elsewhere(context)

    async def ReleaseReferences(self, request, context):  # noqa: N802
        await self._elsewhere(context)
