"""The GCS process: its tables, the pub/sub hub and the death detector."""

from __future__ import annotations

import argparse
import logging
import os
import threading

from ray._private import constants, process, rpc
from ray._private.gcs.job_table import JobTable
from ray._private.gcs.node_table import NodeTable
from ray._private.gcs.pubsub import Publisher
from ray._private.gcs.storage import InMemoryKvStorage, KvStorage
from ray._private.generated import gcs_pb2, gcs_pb2_grpc

logger = logging.getLogger(__name__)


class GcsServer:
    """Holds the cluster's control state. RPCs reach it through `GcsServicer`."""

    def __init__(
        self, session_name: str, session_dir: str, token: str, storage: KvStorage | None = None
    ) -> None:
        self.session_name = session_name
        self.session_dir = session_dir
        self.token = token
        self.kv = storage or InMemoryKvStorage()
        self.publisher = Publisher()
        self.jobs = JobTable()
        self.nodes = NodeTable(
            constants.HEARTBEAT_PERIOD_S * constants.NUM_HEARTBEATS_TIMEOUT, self._node_changed
        )
        from ray._private.gcs.actor_manager import ActorManager

        self.actors = ActorManager(self)
        self._stop = threading.Event()

    def cluster_info(self) -> gcs_pb2.GetClusterInfoReply:
        head = next((n.node_id for n in self.nodes.all() if n.is_head), b"")
        return gcs_pb2.GetClusterInfoReply(
            session_name=self.session_name, session_dir=self.session_dir, head_node_id=head
        )

    def _node_changed(self, info: gcs_pb2.NodeInfo) -> None:
        self.publisher.publish(
            gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_NODE_STATE, node_info=info)
        )
        if info.state == gcs_pb2.NODE_STATE_DEAD:
            self.actors.on_node_dead(info.node_id)

    def node_died(self, node_id: bytes, reason: str) -> None:
        self.nodes.mark_dead(node_id, reason)

    def job_finished(self, job_id: bytes) -> None:
        if self.jobs.finish(job_id) is not None:
            self.actors.on_job_finished(job_id)

    def worker_failed(self, report: gcs_pb2.ReportWorkerFailureRequest) -> None:
        self.publisher.publish(
            gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_WORKER_FAILURE, worker_failure=report)
        )
        self.actors.on_worker_dead(report)

    def run_health_checks(self) -> None:
        rounds = 0
        while not self._stop.wait(constants.HEARTBEAT_PERIOD_S):
            rounds += 1
            try:
                self.nodes.check_timeouts()
                if rounds % 4 == 0:  # owners of actors: every few heartbeats is enough
                    self.actors.check_owners()
            except Exception:  # noqa: BLE001 - the checker must survive one bad round
                logger.exception("health check failed")

    def stop(self) -> None:
        self._stop.set()
        self.publisher.close()
        self.actors.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the GCS process."""
    parser = argparse.ArgumentParser(description="Ray GCS server")
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
    from ray._private.gcs.service import GcsServicer

    gcs = GcsServer(os.path.basename(opts.session_dir), opts.session_dir, token)
    server, port = rpc.create_server(
        [lambda s: gcs_pb2_grpc.add_GcsServiceServicer_to_server(GcsServicer(gcs), s)],
        token,
        host=opts.host,
        port=opts.port,
        max_workers=128,
    )
    logger.info("GCS listening on %s:%d", opts.host, port)
    stop = process.StopRequest()
    stop.install(opts.lifeline_fd)
    threading.Thread(target=gcs.run_health_checks, name="health", daemon=True).start()
    process.report_ready(opts.ready_fd, port)
    stop.wait()
    logger.info("GCS stopping")
    gcs.stop()
    server.stop(grace=0.5).wait(2)


if __name__ == "__main__":
    main()
