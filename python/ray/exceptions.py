"""Exceptions raised by the Ray API. Every one derives from `RayError`."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "RayError",
    "RayTaskError",
    "CrossLanguageError",
    "TaskCancelledError",
    "GetTimeoutError",
    "RayTimeoutError",
    "WorkerCrashedError",
    "RayActorError",
    "ActorDiedError",
    "ActorUnavailableError",
    "ActorUnschedulableError",
    "TaskUnschedulableError",
    "RuntimeEnvSetupError",
    "ObjectLostError",
    "OwnerDiedError",
    "OwnerUnknownError",
    "ObjectFetchTimedOutError",
    "ObjectReconstructionFailedError",
    "ObjectReconstructionFailedMaxAttemptsExceededError",
    "ReferenceCountingAssertionError",
    "ObjectStoreFullError",
    "OutOfMemoryError",
    "RaySystemError",
    "NodeDiedError",
    "AsyncioActorExit",
    "RaySerializationError",
    "RpcError",
]


class RayError(Exception):
    """Base of every error raised by the Ray API."""


class RaySystemError(RayError):
    """The runtime itself failed (a service is unreachable or answered wrongly).

    Args:
        client_exc: What went wrong.
        traceback_str: Optional traceback of the failure.
    """

    def __init__(self, client_exc: Any, traceback_str: str | None = None) -> None:
        self.client_exc = client_exc
        self.traceback_str = traceback_str
        super().__init__(str(client_exc))


class RpcError(RayError):
    """A call between the runtime's processes failed (a peer is gone, refused, or timed out).

    Attributes:
        message: What failed, where, and what to do.
        rpc_code: The gRPC status code's number, when there is one.
    """

    def __init__(self, message: str, rpc_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rpc_code = rpc_code

    def __str__(self) -> str:
        return self.message


class RaySerializationError(RayError, TypeError):
    """A value could not be serialized or deserialized."""


class RayTaskError(RayError):
    """A task or actor method raised an exception.

    `ray.get` raises an instance that is also an instance of the original
    exception's type (see `as_instanceof_cause`), so `except ValueError` works.

    Args:
        function_name: Name of the task that failed.
        traceback_str: The remote traceback.
        cause: The exception raised by user code.
        proctitle: The remote process title.
        pid: The remote process id.
        ip: The remote node's address.
    """

    def __init__(
        self,
        function_name: str,
        traceback_str: str,
        cause: BaseException | None = None,
        proctitle: str | None = None,
        pid: int | None = None,
        ip: str | None = None,
        actor_repr: str | None = None,
        actor_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.proctitle = proctitle or f"ray::{function_name}"
        self.pid = pid
        self.ip = ip
        self.actor_repr = actor_repr
        self._actor_id = actor_id
        RayError.__init__(self, self._message())

    def _message(self) -> str:
        where = f"{self.proctitle}() (pid={self.pid}, ip={self.ip})"
        if self.actor_repr:
            where += f", actor={self.actor_repr}"
        return f"{type(self.cause).__name__ if self.cause else 'Error'} raised in {where}\n{self.traceback_str}"

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple:
        return (
            RayTaskError,
            (
                self.function_name,
                self.traceback_str,
                self.cause,
                self.proctitle,
                self.pid,
                self.ip,
                self.actor_repr,
                self._actor_id,
            ),
        )

    def as_instanceof_cause(self) -> RayTaskError:
        """Returns a copy that is an instance of both RayTaskError and the cause's type."""
        cause = self.cause
        if cause is None or isinstance(cause, RayError):
            return self
        cause_cls = type(cause)
        try:
            derived = _derived_class(cause_cls)
            err = derived.__new__(derived)
        except TypeError:
            return self
        err.__dict__.update(self.__dict__)
        err.args = (self._message(),)
        return err


_DERIVED: dict[type, type] = {}


def _derived_class(cause_cls: type) -> type:
    derived = _DERIVED.get(cause_cls)
    if derived is None:

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            pass

        def __getattr__(self: Any, name: str) -> Any:  # noqa: N807
            cause = self.__dict__.get("cause")
            if cause is None:
                raise AttributeError(name)
            return getattr(cause, name)

        def __reduce__(self: Any) -> tuple:  # noqa: N807
            return (_rebuild_instanceof, (RayTaskError.__reduce__(self)[1],))

        derived = type(
            f"RayTaskError({cause_cls.__name__})",
            (RayTaskError, cause_cls),
            {
                "__init__": __init__,
                "__getattr__": __getattr__,
                "__str__": RayTaskError.__str__,
                "__reduce__": __reduce__,
                "__module__": "ray.exceptions",
            },
        )
        _DERIVED[cause_cls] = derived
    return derived


def _rebuild_instanceof(args: tuple) -> RayTaskError:
    return RayTaskError(*args).as_instanceof_cause()


class CrossLanguageError(RayError):
    """An error raised by a task written in another language."""


class TaskCancelledError(RayError):
    """The task was cancelled with `ray.cancel` before it finished.

    Args:
        task_id: Hex id of the cancelled task.
    """

    def __init__(self, task_id: str | None = None, message: str | None = None) -> None:
        self.task_id = task_id
        super().__init__(message or f"Task {task_id} was cancelled.")


class GetTimeoutError(RayError, TimeoutError):
    """`ray.get` (or `wait`) did not finish within its timeout."""


# The name used by older Ray releases.
RayTimeoutError = GetTimeoutError


class WorkerCrashedError(RayError):
    """The worker running the task died (after all retries).

    Attributes:
        exit_code: The process's exit code, if it exited.
        signal: The signal that killed it, if any.
        out_of_memory: True when the kernel's OOM killer ended it.
        stderr_tail: The last lines the worker wrote to stderr.
    """

    def __init__(
        self,
        message: str = "The worker died unexpectedly while executing this task.",
        exit_code: int | None = None,
        signal: int | None = None,
        out_of_memory: bool = False,
        stderr_tail: str = "",
    ) -> None:
        self.exit_code = exit_code
        self.signal = signal
        self.out_of_memory = out_of_memory
        self.stderr_tail = stderr_tail
        super().__init__(message)

    def __reduce__(self) -> tuple:
        return (
            WorkerCrashedError,
            (str(self), self.exit_code, self.signal, self.out_of_memory, self.stderr_tail),
        )


class OutOfMemoryError(RayError):
    """The task's worker was killed because the node ran out of memory."""


class RayActorError(RayError):
    """The actor died, or could not be created, so the call cannot run.

    Args:
        actor_id: Hex id of the actor.
        error_msg: Why the actor is unavailable.
        actor_init_failed: True when `__init__` raised.
        cause: The exception raised by `__init__`, if that is why it died.
    """

    def __init__(
        self,
        actor_id: str | None = None,
        error_msg: str = "The actor died unexpectedly before finishing this task.",
        actor_init_failed: bool = False,
        cause: BaseException | None = None,
        preempted: bool = False,
    ) -> None:
        self.actor_id = actor_id
        self.error_msg = error_msg
        self.actor_init_failed = actor_init_failed
        self.cause = cause
        self.preempted = preempted
        super().__init__(error_msg)

    def __reduce__(self) -> tuple:
        return (
            type(self),
            (self.actor_id, self.error_msg, self.actor_init_failed, self.cause, self.preempted),
        )


class ActorDiedError(RayActorError):
    """The actor is dead: killed, crashed beyond its restarts, or out of scope."""


class ActorUnavailableError(RayActorError):
    """The actor is temporarily unreachable (for example restarting)."""


class ActorUnschedulableError(RayError):
    """The actor cannot be placed on any node."""


class TaskUnschedulableError(RayError):
    """The task cannot be scheduled on any node."""


class RuntimeEnvSetupError(RayError):
    """The runtime env of a task or actor could not be set up on its node.

    Args:
        error_message: What failed, with the output of the worker that tried.
    """

    def __init__(self, error_message: str | None = None) -> None:
        self.error_message = error_message
        super().__init__(f"Failed to set up runtime environment.\n{error_message or ''}".strip())


class ObjectLostError(RayError):
    """Every copy of the object is gone and it cannot be rebuilt.

    Args:
        object_ref_hex: Hex id of the object.
        owner_address: Address of its owner.
        call_site: Where the object was created, if known.
    """

    def __init__(
        self, object_ref_hex: str = "", owner_address: str = "", call_site: str = ""
    ) -> None:
        self.object_ref_hex = object_ref_hex
        self.owner_address = owner_address
        self.call_site = call_site
        super().__init__(self._message())

    def _message(self) -> str:
        return (
            f"Failed to retrieve object {self.object_ref_hex}: all copies are lost. "
            "Keep a reference to objects you still need, or let Ray re-create them by "
            "returning them from tasks (lineage)."
        )

    def __str__(self) -> str:
        return self._message()

    def __reduce__(self) -> tuple:
        return (type(self), (self.object_ref_hex, self.owner_address, self.call_site))


class OwnerDiedError(ObjectLostError):
    """The process that owned the object (created it or submitted its task) died."""

    def _message(self) -> str:
        return (
            f"Failed to retrieve object {self.object_ref_hex}: its owner at "
            f"{self.owner_address} died, so the object's value and state are lost. An object "
            "lives only as long as the driver or worker that created it (with ray.put or by "
            "calling .remote()); create it in a process that outlives its readers."
        )


class OwnerUnknownError(ObjectLostError):
    """The reference names no owner this process knows, so its value cannot be found."""

    def _message(self) -> str:
        return (
            f"Object {self.object_ref_hex} has no known owner: this process neither created it "
            "(ray.put, a task's return) nor received the reference from a process that knows "
            "its owner (an ObjectRef made from an id alone cannot be resolved). Pass the "
            "ObjectRef itself instead of its id."
        )


class ObjectFetchTimedOutError(ObjectLostError):
    """Fetching the object from another node timed out."""


class ObjectReconstructionFailedError(ObjectLostError):
    """The object's only copy was lost with its node and it could not be rebuilt.

    `call_site` holds why: the object was put (only task outputs can be rebuilt), or its task
    may not run again (`max_retries`).
    """

    def _message(self) -> str:
        return (
            f"Failed to retrieve object {self.object_ref_hex}: {self.call_site} To survive losing "
            "a node, return objects from tasks with max_retries > 0 (they are rebuilt by running "
            "the task again), or keep data you cannot recompute outside the cluster."
        )


class ObjectReconstructionFailedMaxAttemptsExceededError(ObjectReconstructionFailedError):
    """The object's task already ran again as many times as `max_retries` allows."""


class ReferenceCountingAssertionError(ObjectLostError):
    """The object was freed while a reference to it still existed (a runtime bug)."""

    def _message(self) -> str:
        return (
            f"Object {self.object_ref_hex} was already freed by its owner "
            f"{self.owner_address} while this reference still existed."
        )


class ObjectStoreFullError(RayError):
    """The object store is full and even spilling to disk could not make room."""


class NodeDiedError(RayError):
    """The node the work ran on died."""


class AsyncioActorExit(RayError):
    """Raised inside an async actor to make it exit (`ray.actor.exit_actor`)."""
