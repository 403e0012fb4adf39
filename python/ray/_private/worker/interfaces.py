"""The narrow collaborators the parts of the core worker are given (and nothing more).

No part imports another part's module to reach it: each declares here what it
uses, and `core_worker.py` (the composition root) hands in the object that does
it. Unit tests hand in small fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ray._private.generated import common_pb2, core_worker_pb2, node_manager_pb2

logger = logging.getLogger(__name__)


class ObjectStoreClient(Protocol):
    """A node's shared-memory object store, as its node manager serves it."""

    def create_object(
        self,
        object_id: bytes,
        size: int,
        owner: common_pb2.Address,
        writer: common_pb2.Address | None = None,
    ) -> str: ...

    def abort_object(self, object_id: bytes) -> None: ...

    def seal_object(self, object_id: bytes, pin: bool, owner: common_pb2.Address) -> None: ...

    def put_object(
        self, object_id: bytes, size: int, owner: common_pb2.Address, writer: common_pb2.Address
    ) -> str: ...

    def get_objects(self, object_ids: list[bytes]) -> list[node_manager_pb2.ObjectLocation]: ...

    def free_objects(self, object_ids: list[bytes]) -> None: ...


class NodeDirectory(Protocol):
    """Finds the node managers of other nodes."""

    def object_store(self, node_id: bytes) -> ObjectStoreClient | None: ...


class TaskSink(Protocol):
    """Where a submitter reports how a task ended (the TaskManager)."""

    def complete(self, task: Any, reply: core_worker_pb2.PushTaskReply) -> None: ...

    def fail(
        self, task: Any, exc: BaseException | None = None, frame: bytes | None = None
    ) -> None: ...


class Pusher(Protocol):
    """Sends a task to a worker; `callback(reply, failure)` when it is answered or lost."""

    def push(
        self,
        address: common_pb2.Address,
        request: core_worker_pb2.PushTaskRequest,
        callback: Callable[[Any, Any], None],
    ) -> None: ...


class Deferred(Protocol):
    """Runs callbacks later on the core worker's event loop."""

    def call_soon(self, fn: Callable[[], None]) -> None: ...

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None: ...


class DependencyWaiter(Protocol):
    """Calls `on_ready(task)` once the arguments this process owns are ready."""

    def resolve(self, task: Any, on_ready: Callable[[Any], None]) -> None: ...


class ActorDirectory(Protocol):
    """The GCS's actor table, as the actor submitter reads and changes it."""

    def get_actor_info_async(
        self, actor_id: bytes, wait_timeout_s: float, callback: Callable[[Any, Any], None]
    ) -> None: ...

    def kill_actor(self, actor_id: bytes, no_restart: bool, force: bool, reason: str) -> None: ...


class WorkerProbe(Protocol):
    """Tells whether a worker process is certainly gone."""

    def is_gone(self, address: common_pb2.Address) -> bool: ...


class TaskCanceller(Protocol):
    """Asks a worker to cancel a task it runs."""

    def cancel_task(
        self, address: common_pb2.Address, task_id: bytes, force: bool, recursive: bool
    ) -> None: ...


class ExecutionContext(Protocol):
    """What the executor needs from its core worker around running a task."""

    context: Any
    address: common_pb2.Address
    actor_placement_group: Any

    def is_me(self, address: common_pb2.Address | None) -> bool: ...

    def receive(self, request: core_worker_pb2.PushTaskRequest) -> None: ...

    def begin_task(self, spec: common_pb2.TaskSpec) -> None: ...

    def get_frames(self, refs: Sequence[Any], timeout: float | None) -> list[Any]: ...

    def read_task_args(self, args: Sequence[common_pb2.ObjectReference]) -> list[Any]: ...

    def store_return(
        self,
        object_id: bytes,
        frame: Any,
        owner: common_pb2.Address,
        into: common_pb2.ReturnObject | None = None,
    ) -> common_pb2.ReturnObject: ...

    def cancel_children(self, parent_task_id: bytes, force: bool) -> None: ...

    def report_generator_items(
        self,
        owner: common_pb2.Address,
        request: core_worker_pb2.ReportGeneratorItemReturnsRequest,
        timeout_s: float,
    ) -> core_worker_pb2.ReportGeneratorItemReturnsReply: ...

    def set_actor(
        self,
        actor_id: bytes,
        resource_ids: dict[str, list[int]],
        resources: dict[str, float],
        restarted: bool,
    ) -> None: ...
