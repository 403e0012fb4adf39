"""The one place that maps errors to and from ERROR objects (DESIGN.md section 5).

System failures and user exceptions both travel as `ErrorInfo`; Python readers
get the original exception back when it was pickled, other languages read
type, message and traceback.
"""

from __future__ import annotations

import logging
import traceback as tb

import cloudpickle

from ray import exceptions as rex
from ray._private import serialization
from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)

_TYPE_OF = {
    rex.WorkerCrashedError: common_pb2.ERROR_TYPE_WORKER_DIED,
    rex.TaskCancelledError: common_pb2.ERROR_TYPE_TASK_CANCELLED,
    rex.OwnerDiedError: common_pb2.ERROR_TYPE_OWNER_DIED,
    rex.ObjectLostError: common_pb2.ERROR_TYPE_OBJECT_LOST,
    rex.RayActorError: common_pb2.ERROR_TYPE_ACTOR_DIED,
    rex.ObjectStoreFullError: common_pb2.ERROR_TYPE_OBJECT_STORE_FULL,
    rex.RayTaskError: common_pb2.ERROR_TYPE_TASK_EXECUTION,
}


def _error_type(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in _TYPE_OF:
            return _TYPE_OF[cls]
    return common_pb2.ERROR_TYPE_TASK_EXECUTION


def error_info(exc: BaseException, task_id: bytes = b"") -> common_pb2.ErrorInfo:
    """Describes an exception as ErrorInfo, pickling it for Python readers when possible."""
    cause = exc.cause if isinstance(exc, rex.RayTaskError) and exc.cause is not None else exc
    info = common_pb2.ErrorInfo(
        type=_error_type(exc),
        message=str(exc),
        language=common_pb2.LANGUAGE_PYTHON,
        exception_type=f"{type(cause).__module__}.{type(cause).__qualname__}",
        task_id=task_id,
    )
    if isinstance(exc, rex.RayTaskError):
        info.traceback = exc.traceback_str
    try:
        info.python_exception = cloudpickle.dumps(exc)
    except Exception:  # noqa: BLE001 - unpicklable cause: send it without
        if isinstance(exc, rex.RayTaskError):
            stripped = rex.RayTaskError(
                exc.function_name, exc.traceback_str, None, exc.proctitle, exc.pid, exc.ip
            )
            try:
                info.python_exception = cloudpickle.dumps(stripped)
            except Exception:  # noqa: BLE001
                pass
    return info


def error_frame(exc: BaseException, task_id: bytes = b"") -> bytes:
    """The framed ERROR object for an exception."""
    return serialization.serialize_error(error_info(exc, task_id)).to_bytes()


def task_error(function_name: str, exc: BaseException, pid: int, ip: str) -> rex.RayTaskError:
    """Wraps an exception raised by user code, keeping the remote traceback."""
    if isinstance(exc, rex.RayTaskError):
        return exc
    text = "".join(tb.format_exception(type(exc), exc, exc.__traceback__))
    return rex.RayTaskError(function_name, text.rstrip(), exc, None, pid, ip)


def to_exception(info: common_pb2.ErrorInfo) -> BaseException:
    """The exception `get` raises for an ERROR object."""
    if info.python_exception:
        try:
            exc = cloudpickle.loads(info.python_exception)
        except Exception as err:  # noqa: BLE001 - e.g. the exception's class is not importable here
            logger.debug("could not unpickle remote exception: %s", err)
        else:
            if isinstance(exc, rex.RayTaskError):
                return exc.as_instanceof_cause()
            return exc
    kind = info.type
    if kind == common_pb2.ERROR_TYPE_WORKER_DIED:
        return rex.WorkerCrashedError(info.message)
    if kind == common_pb2.ERROR_TYPE_TASK_CANCELLED:
        return rex.TaskCancelledError(info.task_id.hex(), info.message or None)
    if kind == common_pb2.ERROR_TYPE_OWNER_DIED:
        return rex.OwnerDiedError()
    if kind == common_pb2.ERROR_TYPE_OBJECT_LOST:
        return rex.ObjectLostError()
    if kind == common_pb2.ERROR_TYPE_ACTOR_DIED:
        return rex.ActorDiedError(info.actor_id.hex(), info.message)
    if kind == common_pb2.ERROR_TYPE_OBJECT_STORE_FULL:
        return rex.ObjectStoreFullError(info.message)
    if info.language not in (common_pb2.LANGUAGE_PYTHON, common_pb2.LANGUAGE_UNSPECIFIED):
        return rex.CrossLanguageError(
            f"{info.exception_type}: {info.message}\n{info.traceback}".rstrip()
        )
    return rex.RayTaskError(info.exception_type or "task", info.traceback or info.message)


def actor_died_error(actor_id: bytes, cause: common_pb2.ErrorInfo) -> rex.RayError:
    """The error raised for calls on a dead actor, with the cause from its death."""
    inner: BaseException | None = None
    init_failed = False
    message = cause.message or "The actor died."
    if cause.python_exception:
        inner = to_exception(cause)
        if isinstance(inner, rex.RayTaskError):
            init_failed = True
            message = f"The actor died because an error was raised in its __init__:\n{inner}"
        elif isinstance(inner, rex.RayActorError):
            return inner
    if cause.type == common_pb2.ERROR_TYPE_ACTOR_UNAVAILABLE:
        return rex.ActorUnavailableError(actor_id.hex(), message)
    if cause.type == common_pb2.ERROR_TYPE_ACTOR_UNSCHEDULABLE:
        return rex.ActorUnschedulableError(message)
    return rex.ActorDiedError(actor_id.hex(), message, actor_init_failed=init_failed, cause=inner)
