"""Tasks this process submitted and has not seen finish: their outputs and failures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ray import exceptions as rex
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.worker import errors
from ray._private.worker.tasks import NormalTask, Task, TaskState

logger = logging.getLogger(__name__)


class TaskManager:
    """Registers submitted tasks, and completes or fails each exactly once.

    Args:
        add_submitted: Counts a pending task's argument references (ReferenceCounter).
        remove_submitted: Releases them when the task finishes.
        store_return: Records one return object from a reply (Ownership).
        store_error: Makes return objects hold an ERROR frame (Ownership).
        on_complete: Sees each task that completed, before its arguments are released
            (Lineage remembers the ones whose outputs can be rebuilt).
    """

    def __init__(
        self,
        add_submitted: Callable[[Iterable[bytes]], None],
        remove_submitted: Callable[[Iterable[bytes]], None],
        store_return: Callable[[common_pb2.ReturnObject], None],
        store_error: Callable[[Sequence[bytes], bytes], None],
        on_complete: Callable[[Task, core_worker_pb2.PushTaskReply], None] = lambda t, r: None,
    ) -> None:
        self._on_complete = on_complete
        self._add_submitted = add_submitted
        self._remove_submitted = remove_submitted
        self._store_return = store_return
        self._store_error = store_error
        self._lock = threading.Lock()
        self._tasks: dict[bytes, Task] = {}

    def add(self, task: Task) -> None:
        with self._lock:
            self._tasks[task.task_id] = task
        if task.arg_ids:
            self._add_submitted(task.arg_ids)

    def get(self, task_id: bytes) -> Task | None:
        return self._tasks.get(task_id)

    def children_of(self, parent_task_id: bytes) -> list[Task]:
        """Pending tasks submitted while `parent_task_id` ran here (for recursive cancel)."""
        with self._lock:
            return [t for t in self._tasks.values() if t.spec.parent_task_id == parent_task_id]

    def pending(self) -> list[Task]:
        with self._lock:
            return list(self._tasks.values())

    def num_pending(self) -> int:
        return len(self._tasks)

    def _finish(self, task: Task) -> bool:
        with self._lock:
            if task.state == TaskState.FINISHED:
                return False
            task.state = TaskState.FINISHED
            self._tasks.pop(task.task_id, None)
        return True

    def complete(self, task: Task, reply: core_worker_pb2.PushTaskReply) -> None:
        """Stores the task's return objects (the ones still referenced) and releases its args."""
        if not self._finish(task):
            return
        for ret in reply.return_objects:
            self._store_return(ret)
        self._on_complete(task, reply)
        if task.arg_ids:
            self._remove_submitted(task.arg_ids)
        task.keep = []

    def fail(
        self, task: Task, exc: BaseException | None = None, frame: bytes | None = None
    ) -> None:
        """Makes every return of the task raise `exc` (or hold the given ERROR frame)."""
        if not self._finish(task):
            return
        if frame is None:
            assert exc is not None
            frame = errors.error_frame(exc, task.task_id)
        self._store_error(task.spec.return_ids, frame)
        if task.arg_ids:
            self._remove_submitted(task.arg_ids)
        task.keep = []


def crash_error(
    task: NormalTask, info: common_pb2.WorkerExitInfo | None, worker_pid: int
) -> rex.WorkerCrashedError:
    """The error for a task whose worker died, saying how it died."""
    spec = task.spec
    tries = spec.attempt_number + 1
    if info is None:
        how = "its process ended or became unreachable"
        exit_code = signal = None
        oom = False
        tail = ""
    else:
        how = info.description or "it exited"
        exit_code = info.exit_code if not info.signal else None
        signal = info.signal or None
        oom = info.out_of_memory
        tail = info.stderr_tail
    msg = (
        f"The worker (pid {worker_pid}) running task {spec.name!r} died: {how}. "
        f"The task ran {tries} time(s) (max_retries={task.max_retries})."
    )
    if oom:
        msg += (
            " The node ran out of memory: lower the task's memory use or request `memory=` so "
            "fewer run at once."
        )
    if tail:
        msg += "\nLast lines of the worker's stderr:\n" + tail
    return rex.WorkerCrashedError(msg, exit_code, signal, oom, tail)


def cancelled_error(task: Any) -> rex.TaskCancelledError:
    return rex.TaskCancelledError(task.task_id.hex())
