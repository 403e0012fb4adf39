"""The records of tasks this process submitted and has not seen finish.

One record per task, typed by kind: `NormalTask` (leased workers, retries,
pipelining) and `ActorCall` (per-actor order). Their states move as the
submitters' rules say (`submission.py`, `actor_calls.py`); `TaskManager`
completes or fails them.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any

from ray._private.generated import common_pb2, core_worker_pb2

logger = logging.getLogger(__name__)


class TaskState(enum.Enum):
    # Waiting for arguments this process owns to be ready.
    WAITING_FOR_DEPS = "waiting for dependencies"
    # Ready, queued until a worker (normal task) or the actor (actor call) can take it.
    QUEUED = "queued"
    # Sent to a worker; no reply yet.
    PUSHED = "pushed"
    FINISHED = "finished"


@dataclass(eq=False, slots=True)
class Task:
    """What every submitted task holds until it finishes."""

    spec: common_pb2.TaskSpec
    # Retries left when its worker dies (normal tasks) or its actor restarts (actor calls).
    retries_left: int
    # Objects the arguments reference: held as "submitted" until the task finishes.
    arg_ids: list[bytes]
    # References to arguments put into the store for this task, kept alive with it.
    keep: list[Any] = field(default_factory=list)
    state: TaskState = TaskState.WAITING_FOR_DEPS
    pending_deps: int = 0
    cancelled: bool = False
    force_cancel: bool = False
    # The spec's task id, read often (a protobuf field read costs more than a slot's).
    task_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.task_id = self.spec.task_id

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def finished(self) -> bool:
        return self.state == TaskState.FINISHED

    @property
    def resolved(self) -> bool:
        """Its owned arguments are ready (it left WAITING_FOR_DEPS)."""
        return self.state != TaskState.WAITING_FOR_DEPS


@dataclass(eq=False, slots=True)
class NormalTask(Task):
    """A task run on a leased worker."""

    max_retries: int = 0
    # With retry_exceptions=[types]: only these are retried (None: all, when retry_exceptions).
    retry_types: tuple[type, ...] | None = None
    # The queue (resource shape) it belongs to, once ready.
    shape: Any = None
    # The lease it was pushed to, while pushed.
    lease: Any = None
    # The task it waits behind on that worker (pipelining), while pushed.
    behind: NormalTask | None = None
    # The worker replied to it (it ran, or it was given back).
    answered: bool = False
    # Retries that did not count: it had not started when its worker died (at most 3).
    free_retries: int = 0


@dataclass(eq=False, slots=True)
class ActorCall(Task):
    """A method call on an actor."""

    actor_id: bytes = b""
    # Submission order across this process, so requeued calls keep their place.
    order: int = 0
    # The request as first built: sent without a copy the first time.
    request: core_worker_pb2.PushTaskRequest | None = None
    # The actor worker it was sent to, while pushed.
    sent_to: common_pb2.Address | None = None
    # With retry_exceptions=[types]: only these are retried (None: all, when retry_exceptions).
    retry_types: tuple[type, ...] | None = None
