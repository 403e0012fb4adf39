"""Entry point of a session owner: the process that owns one client session's work.

Started by a node manager (StartClientSession). It registers the session's job,
serves the client gateway on its core worker's port, and exits when the client
closes the session, when no KeepAlive stream has been open for the grace
period, or when its node manager goes. Exiting ends the job: its objects are
freed and its non-detached actors die.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import time

from ray._private import constants, object_ref, process
from ray._private.gateway.service import ClientGatewayServicer, SessionHost
from ray._private.gateway.session import Session
from ray._private.generated import client_gateway_pb2_grpc, common_pb2
from ray._private.rpc import channels
from ray._private.worker.core_worker import CoreWorker, WorkerMode

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Ray client session owner", allow_abbrev=False)
    parser.add_argument("--gcs-address", required=True)
    parser.add_argument("--node-manager-address", required=True)
    parser.add_argument("--node-id", required=True)
    parser.add_argument("--session-dir", required=True)
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--job-config", required=True, help="base64 of a JobConfig message")
    parser.add_argument("--language", type=int, required=True)
    parser.add_argument("--grace-s", type=float, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    process.add_common_args(parser)
    opts = parser.parse_args(argv)
    session_id = bytes.fromhex(opts.session_id)
    log_path = os.path.join(opts.session_dir, "logs", f"client-session-{opts.session_id[:12]}.log")
    process.setup_process_logging("client-session", log_path)
    stop = process.StopRequest()
    stop.install(opts.lifeline_fd)
    job_config = common_pb2.JobConfig.FromString(base64.b64decode(opts.job_config))
    session = Session(None, session_id, opts.language, opts.grace_s)
    host = SessionHost()
    host.add(session)
    cw = CoreWorker(
        WorkerMode.DRIVER,
        opts.gcs_address,
        os.environ[constants.TOKEN_ENV],
        opts.node_manager_address,
        bytes.fromhex(opts.node_id),
        opts.session_dir,
        job_config,
        host=opts.host,
        log_to_driver=False,
        extra_services=[
            lambda server: client_gateway_pb2_grpc.add_ClientGatewayServiceServicer_to_server(
                ClientGatewayServicer(host), server
            )
        ],
        server_options=channels.KEEPALIVE_SERVER_OPTIONS,
    )
    session.cw = cw
    object_ref.set_core_worker(cw)
    logger.info(
        "session %s of job %s serving on port %d",
        opts.session_id[:12],
        cw.job_id.hex(),
        cw.address.port,
    )
    process.report_ready(opts.ready_fd, cw.address.port, f"{cw.job_id.hex()} {cw.namespace}")
    reason = _wait_for_end(session, stop)
    logger.info("session %s ends: %s", opts.session_id[:12], reason)
    session.close()
    # Releasing the session's references frees its objects; let those calls go out.
    channels.wait_for_inflight(5.0)
    cw.shutdown()
    channels.wait_for_inflight(2.0)
    logging.shutdown()
    os._exit(0)


def _wait_for_end(session: Session, stop: process.StopRequest) -> str:
    while True:
        if session.closed.is_set():
            return "the client closed it"
        if stop.is_set():
            return "the node manager stopped (or the process was told to stop)"
        if session.expired():
            return f"no KeepAlive stream for {session.reconnect_grace_s:.1f}s (the client is gone)"
        time.sleep(0.2)
