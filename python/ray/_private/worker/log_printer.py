"""Prints worker output on the driver's terminal, prefixed like Ray: `(task pid=123) line`."""

from __future__ import annotations

import logging
import sys

from ray._private.generated import gcs_pb2

logger = logging.getLogger(__name__)


class LogPrinter:
    """Handles LOGS and ERRORS messages for one job."""

    def __init__(self, job_id: bytes) -> None:
        self._job_id = job_id

    def handle(self, msg: gcs_pb2.PubMessage) -> None:
        if msg.HasField("log_batch"):
            batch = msg.log_batch
            if batch.job_id and batch.job_id != self._job_id:
                return
            stream = sys.stderr if batch.is_stderr else sys.stdout
            name = batch.task_name or "worker"
            prefix = f"({name} pid={batch.pid})"
            try:
                stream.write("".join(f"{prefix} {line}\n" for line in batch.lines))
                stream.flush()
            except (OSError, ValueError):
                pass
        elif msg.HasField("driver_message"):
            dm = msg.driver_message
            if dm.job_id and dm.job_id != self._job_id:
                return
            try:
                sys.stderr.write(f"{dm.kind}: {dm.message}\n")
            except (OSError, ValueError):
                pass
