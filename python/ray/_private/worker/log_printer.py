"""Prints worker output on the driver's terminal, prefixed like Ray: `(task pid=123) line`.

Worker output travels: the worker's stdout/stderr pipe -> its node manager (read in whole
lines, batched) -> GCS `CHANNEL_LOGS` -> this driver's subscription -> `LogPrinter.handle`.
At `ray.shutdown()` the driver calls `drain`: every node reads its workers' pipes to the end
and publishes what it read (workers flush their output before replying to a task, so that
covers everything printed before a result came back), then the driver publishes a barrier to
itself and waits, with a bound, until the barrier comes back through its subscription: the
GCS delivers in order, so every line published before has been printed by then.

Lines carrying a `ray.experimental.tqdm_ray` state update are handed to the driver's bar
manager instead of being printed.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from ray._private.generated import common_pb2, gcs_pb2
from ray._private.worker import progress_bars
from ray._private.worker.progress_bars import RAY_TQDM_MAGIC

logger = logging.getLogger(__name__)


class LogPrinter:
    """Handles LOGS and ERRORS messages for one job."""

    def __init__(
        self,
        job_id: bytes,
        local_ip: str = "",
        nodes: Callable[[], list[common_pb2.NodeInfo]] | None = None,
    ) -> None:
        """A printer for the output of `job_id`'s workers.

        Args:
            job_id: The driver's job (other jobs' output is not printed).
            local_ip: The driver's node address: output from other nodes names its `ip=`.
            nodes: The cluster's nodes (to find the address of a node id).
        """
        self._job_id = job_id
        self._local_ip = local_ip
        self._nodes = nodes
        self._node_ips: dict[bytes, str] = {}
        self._nodes_read_at = float("-inf")
        self._barrier_lock = threading.Lock()
        self._barriers: dict[bytes, threading.Event] = {}

    def handle(self, msg: gcs_pb2.PubMessage) -> None:
        if msg.HasField("log_batch"):
            batch = msg.log_batch
            if batch.job_id and batch.job_id != self._job_id:
                return
            if batch.flush_token:
                with self._barrier_lock:
                    event = self._barriers.get(batch.flush_token)
                if event is not None:
                    event.set()
                return
            self._print_batch(batch)
        elif msg.HasField("driver_message"):
            dm = msg.driver_message
            if dm.job_id and dm.job_id != self._job_id:
                return
            _write(sys.stderr, f"{dm.kind}: {dm.message}\n")

    def _print_batch(self, batch: gcs_pb2.LogBatch) -> None:
        name = batch.actor_name or batch.task_name or "worker"
        ip = self._ip_of(batch.node_id)
        if ip and ip != self._local_ip:
            prefix = f"({name} pid={batch.pid}, ip={ip})"
        else:
            prefix = f"({name} pid={batch.pid})"
        lines = []
        for line in batch.lines:
            if RAY_TQDM_MAGIC in line:
                if lines:
                    _print_lines(batch.is_stderr, lines)
                    lines = []
                _bar_update(line, prefix)
            else:
                lines.append(f"{prefix} {line}\n")
        if lines:
            _print_lines(batch.is_stderr, lines)

    def _ip_of(self, node_id: bytes) -> str:
        """The address of the node `node_id` ("" if unknown); the node list is read at most
        once a second."""
        ip = self._node_ips.get(node_id)
        if ip is not None or self._nodes is None or not node_id:
            return ip or ""
        now = time.monotonic()
        if now - self._nodes_read_at < 1.0:
            return ""
        self._nodes_read_at = now
        try:
            for node in self._nodes():
                self._node_ips[node.node_id] = node.node_manager_address
        except Exception as err:  # noqa: BLE001 - printed without the address
            logger.debug("could not read the node list: %s", err)
        return self._node_ips.get(node_id, "")

    def drain(
        self,
        gcs: object,
        node_manager: Callable[[common_pb2.NodeInfo], object],
        timeout_s: float,
    ) -> bool:
        """Prints every line the job's workers wrote so far; returns whether it all arrived in time.

        Args:
            gcs: The GcsClient (nodes, publish).
            node_manager: The NodeManagerClient of a node.
            timeout_s: The bound on the whole wait.
        """
        deadline = time.monotonic() + timeout_s
        try:
            nodes = [
                n
                # Retried while the GCS is unreachable: a short bound, so a driver whose
                # cluster is gone does not wait long.
                for n in gcs.get_all_nodes(timeout_s=min(timeout_s, 2.0))  # type: ignore[attr-defined]
                if n.state == common_pb2.NODE_STATE_ALIVE
            ]
        except Exception as err:  # noqa: BLE001 - the cluster may be gone
            logger.debug("no node list to drain worker output: %s", err)
            return False
        threads = []
        for node in nodes:
            client = node_manager(node)
            left = max(deadline - time.monotonic(), 0.1)
            t = threading.Thread(target=_flush_node, args=(client, self._job_id, left), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0.0))
        token = os.urandom(8)
        event = threading.Event()
        with self._barrier_lock:
            self._barriers[token] = event
        try:
            barrier = gcs_pb2.PubMessage(channel=gcs_pb2.CHANNEL_LOGS)
            barrier.log_batch.job_id = self._job_id
            barrier.log_batch.flush_token = token
            gcs.publish([barrier], timeout_s=max(deadline - time.monotonic(), 0.1))  # type: ignore[attr-defined]
            arrived = event.wait(max(deadline - time.monotonic(), 0.0))
        except Exception as err:  # noqa: BLE001 - the cluster may be gone
            logger.debug("could not publish the log barrier: %s", err)
            arrived = False
        finally:
            with self._barrier_lock:
                self._barriers.pop(token, None)
        if not arrived:
            logger.debug("worker output may be incomplete: the log barrier did not come back")
        progress_bars.close_all()
        return arrived


def _flush_node(client: object, job_id: bytes, timeout_s: float) -> None:
    try:
        client.flush_worker_output(job_id, timeout_s)  # type: ignore[attr-defined]
    except Exception as err:  # noqa: BLE001 - a node may be gone or old
        logger.debug("could not flush worker output on %s: %s", client, err)


def _print_lines(is_stderr: bool, lines: list[str]) -> None:
    stream = sys.stderr if is_stderr else sys.stdout
    with progress_bars.bars_hidden():
        _write(stream, "".join(lines))


def _bar_update(line: str, prefix: str) -> None:
    try:
        progress_bars.instance().process_state_line(line, prefix)
    except Exception as err:  # noqa: BLE001 - a malformed line is printed as it is
        logger.debug("bad progress bar state line: %s", err)
        _write(sys.stdout, f"{prefix} {line}\n")


def _write(stream: object, text: str) -> None:
    try:
        stream.write(text)  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        pass
