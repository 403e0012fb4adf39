"""Rebuilding task outputs lost with a node, by running their tasks again (DESIGN.md section 7).

A finished normal task whose outputs live in a node's store is remembered (its spec, and a hold
on its arguments so they can be passed again) while any of its outputs is referenced here. When
the only copy of such an output is lost (its node died, or a pull from it failed), the task runs
again, at most `max_retries` times over its life, as in Ray. An output that cannot be rebuilt (a
`ray.put` object, a task with `max_retries=0`, or no rebuilds left) holds an ObjectLostError.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ray import exceptions as rex
from ray._private.generated import common_pb2, core_worker_pb2
from ray._private.worker import errors
from ray._private.worker.tasks import NormalTask

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Entry:
    spec: common_pb2.TaskSpec
    max_retries: int
    rebuilds_left: int
    arg_ids: list[bytes]
    # Outputs stored in a node's store, still referenced here.
    outputs: set[bytes] = field(default_factory=set)
    rebuilding: bool = False


class Lineage:
    """The tasks that can rebuild this process's stored outputs.

    Args:
        hold_args: Counts the arguments of a remembered task as referenced (ReferenceCounter).
        release_args: Drops that count.
        lost_nodes: Forgets a dead node as a location; returns the owned objects lost with it.
        drop_value: Forgets an object's value here (so gets wait for the rebuilt one).
        resubmit: Runs a task again (a new record for the same spec).
        store_error: Makes objects hold an ERROR frame.
    """

    def __init__(
        self,
        hold_args: Callable[[Iterable[bytes]], None],
        release_args: Callable[[Iterable[bytes]], None],
        lost_nodes: Callable[[bytes], list[bytes]],
        drop_value: Callable[[list[bytes]], None],
        resubmit: Callable[[NormalTask], None],
        store_error: Callable[[list[bytes], bytes], None],
    ) -> None:
        self._hold_args = hold_args
        self._release_args = release_args
        self._lost_nodes = lost_nodes
        self._drop_value = drop_value
        self._resubmit = resubmit
        self._store_error = store_error
        self._lock = threading.Lock()
        self._by_task: dict[bytes, _Entry] = {}
        self._by_object: dict[bytes, _Entry] = {}
        self.num_rebuilt = 0

    def task_finished(self, task: NormalTask, reply: core_worker_pb2.PushTaskReply) -> None:
        """Remembers a finished task whose outputs went to a store (before its args are released)."""
        stored = [r.object_id for r in reply.return_objects if r.in_store]
        if not stored or reply.is_application_error:
            return
        with self._lock:
            entry = self._by_task.get(task.task_id)
            if entry is None:
                entry = _Entry(task.spec, task.max_retries, task.max_retries, list(task.arg_ids))
                self._by_task[task.task_id] = entry
                hold = True
            else:
                hold = False  # rebuilt: the first run's hold still stands
            entry.rebuilding = False
            entry.outputs.update(stored)
            for oid in stored:
                self._by_object[oid] = entry
        if hold and entry.arg_ids:
            self._hold_args(entry.arg_ids)

    def freed(self, oids: Iterable[bytes]) -> None:
        """Outputs were freed here: a task none of whose outputs is left is forgotten."""
        if not self._by_object:
            return  # nothing kept (actor calls and tasks without rebuildable outputs)
        done = []
        with self._lock:
            for oid in oids:
                entry = self._by_object.pop(oid, None)
                if entry is None:
                    continue
                entry.outputs.discard(oid)
                if not entry.outputs and self._by_task.pop(entry.spec.task_id, None) is entry:
                    done.append(entry)
        for entry in done:
            if entry.arg_ids:
                self._release_args(entry.arg_ids)

    def node_died(self, node_id: bytes) -> None:
        """A node died: every owned object whose only copy it held is rebuilt or lost."""
        lost = self._lost_nodes(node_id)
        if lost:
            logger.warning(
                "node %s died with the only copy of %d object(s) owned here",
                node_id.hex()[:12],
                len(lost),
            )
            self.lost(lost, f"its node {node_id.hex()[:12]} died")

    def lost(self, oids: list[bytes], why: str) -> None:
        """The only copies of these objects are gone: rebuild them, or make them raise."""
        rebuild: list[_Entry] = []
        unrecoverable: list[tuple[bytes, str, type]] = []
        with self._lock:
            for oid in oids:
                entry = self._by_object.get(oid)
                if entry is None:
                    unrecoverable.append(
                        (
                            oid,
                            "it was put (ray.put) or returned by an actor call, not by a normal task, "
                            "so it cannot be rebuilt",
                            rex.ObjectReconstructionFailedError,
                        )
                    )
                elif entry.rebuilding:
                    continue
                elif entry.rebuilds_left == 0:
                    if entry.max_retries == 0:
                        detail = f"its task {entry.spec.name!r} has max_retries=0"
                        kind = rex.ObjectReconstructionFailedError
                    else:
                        detail = (
                            f"its task {entry.spec.name!r} ran again {entry.max_retries} "
                            "time(s) already (max_retries)"
                        )
                        kind = rex.ObjectReconstructionFailedMaxAttemptsExceededError
                    unrecoverable.append((oid, detail, kind))
                else:
                    entry.rebuilding = True
                    if entry.rebuilds_left > 0:
                        entry.rebuilds_left -= 1
                    rebuild.append(entry)
        for oid, detail, kind in unrecoverable:
            error = kind(oid.hex(), "", f"its only copy was lost ({why}) and {detail}.")
            self._drop_value([oid])  # the value that pointed at the lost copy
            self._store_error([oid], errors.error_frame(error))
        for entry in rebuild:
            outputs = list(entry.outputs)
            self._drop_value(outputs)
            spec = common_pb2.TaskSpec()
            spec.CopyFrom(entry.spec)
            spec.attempt_number += 1
            entry.spec = spec
            logger.info("re-running task %s to rebuild %d lost object(s)", spec.name, len(outputs))
            self.num_rebuilt += 1
            self._resubmit(
                NormalTask(
                    spec, entry.max_retries, list(entry.arg_ids), [], max_retries=entry.max_retries
                )
            )
