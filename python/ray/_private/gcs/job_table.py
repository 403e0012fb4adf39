"""Jobs (one per connected driver)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from ray._private import ids
from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


@dataclass
class JobEntry:
    job_id: bytes
    driver_address: common_pb2.Address
    driver_pid: int
    config: common_pb2.JobConfig
    finished: bool = False

    @property
    def namespace(self) -> str:
        return self.config.ray_namespace


class JobTable:
    """Assigns job ids and remembers which jobs are running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self._jobs: dict[bytes, JobEntry] = {}

    def add(
        self, driver_address: common_pb2.Address, pid: int, config: common_pb2.JobConfig
    ) -> JobEntry:
        with self._lock:
            job_id = ids.job_id_from_int(self._next)
            self._next += 1
            entry = JobEntry(job_id, driver_address, pid, config)
            self._jobs[job_id] = entry
        return entry

    def finish(self, job_id: bytes) -> JobEntry | None:
        with self._lock:
            entry = self._jobs.get(job_id)
            if entry is None or entry.finished:
                return None
            entry.finished = True
            return entry

    def get(self, job_id: bytes) -> JobEntry | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self) -> list[JobEntry]:
        with self._lock:
            return [j for j in self._jobs.values() if not j.finished]
