"""Entry point of the node manager process."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import ray
from ray._private import constants, process
from ray._private.generated import node_manager_pb2, node_manager_pb2_grpc
from ray._private.node_manager.metrics_export import MetricsExporter, node_families
from ray._private.node_manager.node_manager import NodeManager, new_node_id
from ray._private.node_manager.service import NodeManagerServicer
from ray._private.rpc import channels, chunk_codec
from ray._private.rpc.gcs_client import GcsClient

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    # What this process starts (workers, session owners) imports the driver API as usual.
    os.environ.pop(ray.SERVICE_PROCESS_ENV, None)
    parser = argparse.ArgumentParser(description="Ray node manager", allow_abbrev=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gcs-address", default="", help="HOST:PORT of the GCS")
    parser.add_argument(
        "--gcs-address-fd",
        type=int,
        default=-1,
        help="read the GCS address from this pipe instead (lets the node start while the GCS does)",
    )
    parser.add_argument("--session-dir", required=True)
    parser.add_argument("--resources", default="{}", help="JSON map of total resources")
    parser.add_argument("--object-store-memory", type=int, required=True)
    parser.add_argument("--node-id", default="")
    parser.add_argument("--head", action="store_true")
    parser.add_argument("--prestart-workers", type=int, default=-1)
    parser.add_argument(
        "--metrics-export-port",
        type=int,
        default=0,
        help="HTTP port of the node's Prometheus metrics endpoint (0 = any free port)",
    )
    process.add_common_args(parser)
    opts = parser.parse_args(argv)
    process.setup_process_logging("node_manager")
    session_dir = Path(opts.session_dir)
    token = os.environ.get(constants.TOKEN_ENV) or (session_dir / "token").read_text().strip()
    resources = json.loads(opts.resources)
    gcs_address = opts.gcs_address or _read_address(opts.gcs_address_fd)
    node_id = bytes.fromhex(opts.node_id) if opts.node_id else new_node_id()
    prestart = opts.prestart_workers
    if prestart < 0:
        prestart = max(1, int(resources.get("CPU", 1)))
    nm = NodeManager(
        node_id,
        session_dir,
        token,
        GcsClient(gcs_address, token),
        resources,
        opts.object_store_memory,
        opts.host,
        opts.head,
        prestart,
    )
    exporter = MetricsExporter(
        nm.metrics,
        lambda: node_families(nm.stats(), {**nm.metric_tags, "Component": "raylet"}),
        opts.host,
        opts.metrics_export_port,
    )
    nm.metrics_export_port = exporter.port
    stop = process.StopRequest()
    server, port = channels.create_server(
        [
            lambda s: channels.add_servicer(
                s,
                node_manager_pb2_grpc.add_NodeManagerServiceServicer_to_server,
                NodeManagerServicer(nm, stop),
                # Object chunks skip protobuf's copies (same wire format).
                {
                    "ReadObject": (
                        node_manager_pb2.ReadObjectRequest.FromString,
                        chunk_codec.encode_reply,
                    )
                },
            )
        ],
        token,
        host=opts.host,
        port=opts.port,
        max_workers=256,
    )

    stop.install(opts.lifeline_fd)
    nm.start(port)
    logger.info("node manager %s listening on %s:%d", node_id.hex()[:12], opts.host, port)
    process.report_ready(opts.ready_fd, port)
    stop.wait()
    nm.stop("shutdown requested")
    exporter.stop()
    # In-flight calls get a moment to finish; long polls and streams are cut.
    server.stop(grace=0.05).wait(2)


def _read_address(fd: int) -> str:
    if fd < 0:
        raise SystemExit("give --gcs-address or --gcs-address-fd")
    with os.fdopen(fd, "rb") as pipe:
        line = pipe.readline().decode().strip()
    if not line:
        raise SystemExit("the GCS did not start (no address on --gcs-address-fd)")
    return line


if __name__ == "__main__":
    main()
