"""Waits for a task's owned arguments, inlines the small ones, says where the stored ones are,
and fails tasks whose inputs failed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ray._private.worker.memory_store import MemoryStore
from ray._private.worker.task_manager import cancelled_error
from ray._private.worker.tasks import Task, TaskState

logger = logging.getLogger(__name__)


class DependencyResolver:
    """Calls `on_ready(task)` once every argument this process owns is ready.

    Arguments owned by other processes are left as references: the executor
    fetches them from their owners. Readiness callbacks arrive on the event loop
    (the memory store defers them), never on a transport thread.

    Args:
        memory_store: Where owned values become ready.
        owned_by_me: Whether an object is owned by this process.
        fail: Fails a task with an exception or an ERROR frame (TaskManager.fail).
    """

    def __init__(
        self,
        memory_store: MemoryStore,
        owned_by_me: Callable[[bytes], bool],
        fail: Callable[..., None],
    ) -> None:
        self._store = memory_store
        self._owned = owned_by_me
        self._fail = fail
        self._lock = threading.Lock()

    def resolve(self, task: Task, on_ready: Callable[[Task], None]) -> None:
        if not task.spec.args:
            task.state = TaskState.QUEUED
            on_ready(task)
            return
        deps = {
            arg.object_ref.object_id
            for arg in task.spec.args
            if arg.HasField("object_ref")
            and self._owned(arg.object_ref.object_id)
            and not self._store.contains(arg.object_ref.object_id)
        }
        if not deps:
            self._inline(task, on_ready)
            return
        task.pending_deps = len(deps)
        for oid in deps:
            self._store.on_ready(oid, lambda _obj, t=task: self._dep_ready(t, on_ready))

    def _dep_ready(self, task: Task, on_ready: Callable[[Task], None]) -> None:
        with self._lock:
            task.pending_deps -= 1
            if task.pending_deps > 0:
                return
        self._inline(task, on_ready)

    def _inline(self, task: Task, on_ready: Callable[[Task], None]) -> None:
        if task.cancelled:
            self._fail(task, cancelled_error(task))
            return
        for arg in task.spec.args:
            if not arg.HasField("object_ref") or not self._owned(arg.object_ref.object_id):
                continue
            stored = self._store.get(arg.object_ref.object_id)
            if stored is None:
                continue
            if stored.is_error:
                self._fail(task, frame=stored.data)
                return
            if not stored.in_store and stored.data is not None:
                nested = list(stored.nested_refs)
                arg.inline_data = stored.data
                del arg.nested_refs[:]
                arg.nested_refs.extend(nested)
            elif stored.in_store:
                # Where it is: the executor needs no round trip to this process to find it.
                arg.object_ref.store_node_id = stored.node_id
                arg.object_ref.size_bytes = stored.size_bytes
        task.state = TaskState.QUEUED
        on_ready(task)
