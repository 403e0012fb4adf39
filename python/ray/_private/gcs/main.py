"""Entry point of the GCS process: serves `GcsServer` until it is told to stop.

The server is asyncio (see `service.py`): its one event loop runs on the main
thread; the health checker and the actor placer have threads of their own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import threading

import ray
from ray._private import constants, process
from ray._private.gcs.gateway_service import GatewayBootstrapServicer
from ray._private.gcs.server import GcsServer
from ray._private.gcs.service import GcsServicer
from ray._private.generated import client_gateway_pb2_grpc, gcs_pb2_grpc
from ray._private.rpc import channels
from ray._private.rpc.node_manager_client import NodeManagerClient

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the GCS process."""
    # What this process starts (workers, session owners) imports the driver API as usual.
    os.environ.pop(ray.SERVICE_PROCESS_ENV, None)
    parser = argparse.ArgumentParser(description="Ray GCS server", allow_abbrev=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--session-dir", required=True)
    process.add_common_args(parser)
    opts = parser.parse_args(argv)
    process.setup_process_logging("gcs")
    token = (
        os.environ.get(constants.TOKEN_ENV)
        or open(os.path.join(opts.session_dir, "token")).read().strip()
    )
    stop = process.StopRequest()
    stop.install(opts.lifeline_fd)
    asyncio.run(_serve(opts, token, stop))


async def _serve(opts: argparse.Namespace, token: str, stop: process.StopRequest) -> None:
    loop = asyncio.get_running_loop()
    gcs = GcsServer(os.path.basename(opts.session_dir), opts.session_dir, token)
    server, port = channels.create_aio_server(
        [
            lambda s: gcs_pb2_grpc.add_GcsServiceServicer_to_server(GcsServicer(gcs, loop), s),
            lambda s: client_gateway_pb2_grpc.add_ClientGatewayServiceServicer_to_server(
                GatewayBootstrapServicer(
                    gcs.nodes.alive, lambda address: NodeManagerClient(address, token)
                ),
                s,
            ),
        ],
        token,
        host=opts.host,
        port=opts.port,
    )
    await server.start()
    logger.info("GCS listening on %s:%d", opts.host, port)
    threading.Thread(target=gcs.run_health_checks, name="health", daemon=True).start()
    process.report_ready(opts.ready_fd, port)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_reader(stop.fileno(), stopping.set)
    if not stop.is_set():
        await stopping.wait()
    stop.stopping()
    logger.info("GCS stopping")
    gcs.stop()
    # In-flight calls get a moment to finish; open streams (subscriptions) are cut.
    await server.stop(0.1)
