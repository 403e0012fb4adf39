"""Waits for a task's owned arguments, inlines the small ones and fails tasks whose inputs failed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ray import exceptions as rex
from ray._private.worker.task_manager import TaskEntry

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)


class DependencyResolver:
    """Calls `on_ready(entry)` once every argument this process owns is ready.

    Arguments owned by other processes are left as references: the executor
    fetches them from their owners.
    """

    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw
        self._lock = threading.Lock()

    def resolve(self, entry: TaskEntry, on_ready: Callable[[TaskEntry], None]) -> None:
        cw = self._cw
        deps = {
            arg.object_ref.object_id
            for arg in entry.spec.args
            if arg.HasField("object_ref")
            and cw.refs.owned_by_me(arg.object_ref.object_id)
            and not cw.memory_store.contains(arg.object_ref.object_id)
        }
        if not deps:
            self._inline(entry, on_ready)
            return
        entry.pending_deps = len(deps)
        for oid in deps:
            cw.memory_store.on_ready(oid, lambda _obj, e=entry: self._dep_ready(e, on_ready))

    def _dep_ready(self, entry: TaskEntry, on_ready: Callable[[TaskEntry], None]) -> None:
        with self._lock:
            entry.pending_deps -= 1
            if entry.pending_deps > 0:
                return
        self._inline(entry, on_ready)

    def _inline(self, entry: TaskEntry, on_ready: Callable[[TaskEntry], None]) -> None:
        cw = self._cw
        if entry.cancelled:
            cw.task_manager.fail(entry, rex.TaskCancelledError(entry.spec.task_id.hex()))
            return
        for arg in entry.spec.args:
            if not arg.HasField("object_ref") or not cw.refs.owned_by_me(arg.object_ref.object_id):
                continue
            stored = cw.memory_store.get(arg.object_ref.object_id)
            if stored is None:
                continue
            if stored.is_error:
                cw.task_manager.fail(entry, frame=stored.data)
                return
            if not stored.in_store and stored.data is not None:
                nested = list(stored.nested_refs)
                arg.inline_data = stored.data
                del arg.nested_refs[:]
                arg.nested_refs.extend(nested)
        entry.extra["resolved"] = True
        on_ready(entry)
