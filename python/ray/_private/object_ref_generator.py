"""`ray.ObjectRefGenerator` and `ray.DynamicObjectRefGenerator`: the refs a generator task yields.

A remote function or actor method whose body yields returns an
`ObjectRefGenerator` (num_returns="streaming", the default for generators):
each `next()` gives the ref of the next yielded value as soon as the task has
yielded it. With num_returns="dynamic" the task's one ref holds a
`DynamicObjectRefGenerator` of all the refs, once the task has ended. The
machinery is in `worker/generators.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from ray._private.generated import common_pb2
from ray._private.object_ref import ObjectRef, get_core_worker
from ray.exceptions import GetTimeoutError

logger = logging.getLogger(__name__)

STREAMING = "streaming"
DYNAMIC = "dynamic"

# The num_returns of generator methods in an actor's method table (an int32 map on the wire).
_WIRE = {STREAMING: -1, DYNAMIC: -2}
_FROM_WIRE = {v: k for k, v in _WIRE.items()}
_NIL_ID = b"\xff" * 28
_NO_SEND = (
    "A remote generator takes no values or exceptions from its caller; pass what it needs "
    "as task arguments (or through an actor) instead"
)


def generator_kind(num_returns: Any) -> int:
    """The TaskSpec generator kind of a num_returns option (0 for an integer)."""
    if num_returns == STREAMING:
        return common_pb2.GENERATOR_KIND_STREAMING
    if num_returns == DYNAMIC:
        return common_pb2.GENERATOR_KIND_DYNAMIC
    return common_pb2.GENERATOR_KIND_UNSPECIFIED


def num_returns_to_wire(num_returns: Any) -> int:
    return _WIRE.get(num_returns, num_returns) if isinstance(num_returns, str) else num_returns


def num_returns_from_wire(value: int) -> Any:
    return _FROM_WIRE.get(value, value)


class ObjectRefGenerator:
    """The refs of the values a streaming generator task yields, in order.

    Iterate it (`for ref in gen`, `next(gen)`, `async for ref in gen`) and `ray.get` each
    ref; a ref is available as soon as the task yielded its value. An exception the task
    raised after k values is raised by `ray.get` of the (k+1)-th ref. `ray.wait` takes
    generators beside refs: one is ready when its next ref is (or it has ended), and
    `ray.cancel(gen)` stops the task.
    """

    # Only picklable parts (the core worker is found through the ref), so that pickling fails
    # with this class's own message.
    __slots__ = ("_generator_ref", "_task_id", "__weakref__")

    def __init__(self, generator_ref: ObjectRef, worker: Any = None) -> None:
        self._generator_ref = generator_ref
        self._task_id = generator_ref.task_id()

    @property
    def _worker(self) -> Any:
        """The core worker that submitted the task (it counts the generator's ref)."""
        return self._generator_ref._counted or get_core_worker()

    # ---- iteration -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[ObjectRef]:
        return self

    def __next__(self) -> ObjectRef:
        return self._next(None)

    def _next_sync(self, timeout_s: float | None = None) -> ObjectRef:
        """The next ref, waiting at most `timeout_s`: a nil ref if none came in time.

        Raises:
            StopIteration: The stream has ended.
        """
        try:
            return self._next(timeout_s)
        except GetTimeoutError:
            return ObjectRef(_NIL_ID, None, _counted=False)

    def _next(self, timeout_s: float | None) -> ObjectRef:
        ref = self._worker.generators.next_ref(self._task_id, timeout_s)
        if ref is None:
            raise StopIteration
        return ref

    def __aiter__(self) -> ObjectRefGenerator:
        return self

    async def __anext__(self) -> ObjectRef:
        loop = asyncio.get_running_loop()
        ref = await loop.run_in_executor(
            None, self._worker.generators.next_ref, self._task_id, None
        )
        if ref is None:
            raise StopAsyncIteration
        return ref

    # ---- state ---------------------------------------------------------------------------

    def completed(self) -> ObjectRef:
        """A ref that becomes ready when the task has ended (its value is None, or the
        error that ended the task)."""
        return self._generator_ref

    def next_ready(self) -> bool:
        """True if `next()` would not block: the next ref is ready, or the stream ended."""
        return self._worker.generators.has_next(self._task_id)

    def send(self, value: Any) -> ObjectRef:
        """`send(None)` is `next()`; values cannot be sent into a remote generator."""
        if value is not None:
            raise NotImplementedError(_NO_SEND)
        return self._next(None)

    def throw(self, *args: Any) -> ObjectRef:
        raise NotImplementedError(_NO_SEND)

    def close(self) -> None:
        raise NotImplementedError(
            "An ObjectRefGenerator cannot be closed; use ray.cancel(generator) to stop its task"
        )

    async def asend(self, value: Any) -> ObjectRef:
        if value is not None:
            raise NotImplementedError(_NO_SEND)
        return await self.__anext__()

    async def athrow(self, *args: Any) -> ObjectRef:
        raise NotImplementedError(_NO_SEND)

    async def aclose(self) -> None:
        self.close()

    def is_finished(self) -> bool:
        """True once every ref was handed out and the task ended."""
        return self._worker.generators.is_finished(self._task_id)

    def _has_next(self) -> bool:
        return self.next_ready()

    def _probe_ids(self) -> list[bytes]:
        return self._worker.generators.probe_ids(self._task_id)

    def task_id(self) -> bytes:
        return self._task_id

    def __reduce__(self) -> tuple:
        raise TypeError(
            "An ObjectRefGenerator cannot be passed to another task or actor, or pickled: "
            "iterate it here and pass the refs it yields (or their values) instead."
        )

    def __del__(self) -> None:
        ref = getattr(self, "_generator_ref", None)
        worker = ref._counted if ref is not None else None
        if worker is not None:
            try:
                worker.generators.drop(self._task_id)
            except Exception:  # noqa: BLE001 - interpreter or runtime shutdown
                pass

    def __repr__(self) -> str:
        return f"ObjectRefGenerator({self._task_id.hex()})"


class DynamicObjectRefGenerator:
    """The value of a num_returns="dynamic" task: the refs of every value it yielded."""

    def __init__(self, refs: list[ObjectRef]) -> None:
        self._refs = list(refs)

    def __iter__(self) -> Iterator[ObjectRef]:
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __reduce__(self) -> tuple:
        return (DynamicObjectRefGenerator, (self._refs,))

    def __repr__(self) -> str:
        return f"DynamicObjectRefGenerator({len(self._refs)} refs)"
