"""The worker's side of task pipelining: tasks that wait behind the running one (sans-IO).

A submitter may push a task to a worker that is still running another
(`MAX_TASKS_IN_FLIGHT_PER_WORKER`), so the worker does not idle between tasks.
Such a task must never wait on the one ahead of it: it is handed back to its
submitter, not run, when the running task blocks in get/wait (it may be what
that task waits for) or once the oldest waiting task has waited `wait_s`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class PipelinedTasks:
    """Normal tasks on one worker: how many are active, and which wait. The executor locks around it."""

    def __init__(self, wait_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._wait_s = wait_s
        self._clock = clock
        self.active = 0
        self._waiting: list[Any] = []

    def arrive(self, job: Any) -> bool:
        """A normal task arrived; True if it waits behind another (arm `expired`)."""
        behind = self.active > 0
        self.active += 1
        if behind:
            job.waiting = True
            job.queued_at = self._clock()
            self._waiting.append(job)
        return behind

    def finished(self) -> None:
        self.active -= 1

    def start(self, job: Any) -> bool:
        """The main thread takes the task; False if it was given back meanwhile."""
        if job.given_back:
            return False
        if job.waiting:
            job.waiting = False
            self._waiting.remove(job)
        return True

    def give_back_all(self) -> list[Any]:
        """Every waiting task, now marked as given back (the running task blocked)."""
        jobs, self._waiting = self._waiting, []
        for job in jobs:
            job.waiting = False
            job.given_back = True
        return jobs

    def expired(self) -> tuple[list[Any], float | None]:
        """Tasks to give back now (the oldest waited wait_s), and when to look again (None: never)."""
        if not self._waiting:
            return [], None
        left = self._waiting[0].queued_at + self._wait_s - self._clock()
        if left > 0:
            return [], left
        return self.give_back_all(), None
