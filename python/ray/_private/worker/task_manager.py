"""Tasks this process submitted and has not seen finish: outputs, retries, failures."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ray import exceptions as rex
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.worker import errors
from ray._private.worker.memory_store import StoredObject

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)


@dataclass
class TaskEntry:
    """A submitted task and what its submission holds."""

    spec: common_pb2.TaskSpec
    retries_left: int
    # Objects the task's arguments reference (held as "submitted" until it finishes).
    arg_ids: list[bytes]
    pending_deps: int = 0
    cancelled: bool = False
    force_cancel: bool = False
    # Where it was pushed (a leased worker), when it was.
    worker: Any = None
    key: Any = None
    finished: bool = False
    extra: dict = field(default_factory=dict)


class TaskManager:
    """Completes or fails submitted tasks; decides retries."""

    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw
        self._lock = threading.Lock()
        self.tasks: dict[bytes, TaskEntry] = {}

    def add(self, entry: TaskEntry) -> None:
        with self._lock:
            self.tasks[entry.spec.task_id] = entry
        self._cw.refs.add_submitted(entry.arg_ids)

    def get(self, task_id: bytes) -> TaskEntry | None:
        return self.tasks.get(task_id)

    def num_pending(self) -> int:
        return len(self.tasks)

    def _finish(self, entry: TaskEntry) -> bool:
        with self._lock:
            if entry.finished:
                return False
            entry.finished = True
            self.tasks.pop(entry.spec.task_id, None)
        return True

    def complete(self, entry: TaskEntry, reply: core_worker_pb2.PushTaskReply) -> None:
        """Stores the task's return objects (the ones still referenced) and releases its args."""
        if not self._finish(entry):
            return
        cw = self._cw
        for ret in reply.return_objects:
            cw.store_returned_object(ret)
        cw.refs.remove_submitted(entry.arg_ids)

    def fail(
        self, entry: TaskEntry, exc: BaseException | None = None, frame: bytes | None = None
    ) -> None:
        """Makes every return of the task raise `exc` (or hold the given ERROR frame)."""
        if not self._finish(entry):
            return
        if frame is None:
            assert exc is not None
            frame = errors.error_frame(exc, entry.spec.task_id)
        stored = StoredObject(frame, is_error=True, size_bytes=len(frame))
        cw = self._cw
        for oid in entry.spec.return_ids:
            if cw.refs.has(oid):
                cw.memory_store.put(oid, stored)
        cw.refs.remove_submitted(entry.arg_ids)

    def crash_error(self, entry: TaskEntry, info: Any, worker_pid: int) -> rex.WorkerCrashedError:
        """The error for a task whose worker died, saying how it died."""
        spec = entry.spec
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
            f"The task ran {tries} time(s) (max_retries={entry.extra.get('max_retries', 0)})."
        )
        if oom:
            msg += " The node ran out of memory: lower the task's memory use or request `memory=` so fewer run at once."
        if tail:
            msg += "\nLast lines of the worker's stderr:\n" + tail
        return rex.WorkerCrashedError(msg, exit_code, signal, oom, tail)
