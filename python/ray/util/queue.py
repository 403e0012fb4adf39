"""`ray.util.queue.Queue`: a first-in first-out queue shared by tasks and actors, as in Ray.

The items live in an async actor; the `Queue` object is a small handle around it, so it
can be passed to tasks and actors (it pickles). Blocking calls wait inside the actor, each
for at most its `timeout`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Iterable
from typing import Any

import ray

logger = logging.getLogger(__name__)

__all__ = ["Empty", "Full", "Queue"]


class Empty(queue.Empty):
    """Raised by `get` when the queue has no item (at once, or within the timeout)."""


class Full(queue.Full):
    """Raised by `put` when the queue has no room (at once, or within the timeout)."""


class Queue:
    """A FIFO queue backed by an actor, usable from the driver, tasks and actors.

    Args:
        maxsize: At most this many items are held; 0 (the default) means no limit.
        actor_options: Options for the actor that holds the items (`num_cpus`, `name`,
            `lifetime`, ...), as for `ActorClass.options`.

    Example:
        >>> q = Queue(maxsize=10)
        >>> q.put(1)
        >>> q.get()
        1
    """

    def __init__(self, maxsize: int = 0, actor_options: dict | None = None) -> None:
        actor_options = actor_options or {}
        self.maxsize = maxsize
        self.actor = ray.remote(_QueueActor).options(**actor_options).remote(self.maxsize)

    def __len__(self) -> int:
        return self.size()

    def size(self) -> int:
        """The number of items in the queue."""
        return ray.get(self._handle().qsize.remote())

    def qsize(self) -> int:
        """The number of items in the queue."""
        return self.size()

    def empty(self) -> bool:
        """Whether the queue holds no item."""
        return ray.get(self._handle().empty.remote())

    def full(self) -> bool:
        """Whether the queue holds `maxsize` items (never, without a maxsize)."""
        return ray.get(self._handle().full.remote())

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Adds `item` at the end of the queue.

        Args:
            item: The item (any serializable value).
            block: Wait for room when the queue is full; otherwise raise `Full` at once.
            timeout: With `block`, wait at most this many seconds (None: until there is room).

        Raises:
            Full: No room, at once (`block=False`) or within `timeout`.
            ValueError: `timeout` is negative.
        """
        ray.get(self._put_ref(item, block, timeout))._raise()

    async def put_async(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """`put` for asyncio code: awaits room instead of blocking the thread."""
        (await self._put_ref(item, block, timeout))._raise()

    def _put_ref(self, item: Any, block: bool, timeout: float | None) -> Any:
        actor = self._handle()
        if not block:
            return actor.put_nowait.remote(item)
        _check_timeout(timeout)
        return actor.put.remote(item, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Removes and returns the item at the front of the queue.

        Args:
            block: Wait for an item when the queue is empty; otherwise raise `Empty` at once.
            timeout: With `block`, wait at most this many seconds (None: until there is one).

        Returns:
            The item.

        Raises:
            Empty: No item, at once (`block=False`) or within `timeout`.
            ValueError: `timeout` is negative.
        """
        return ray.get(self._get_ref(block, timeout)).value()

    async def get_async(self, block: bool = True, timeout: float | None = None) -> Any:
        """`get` for asyncio code: awaits an item instead of blocking the thread."""
        return (await self._get_ref(block, timeout)).value()

    def _get_ref(self, block: bool, timeout: float | None) -> Any:
        actor = self._handle()
        if not block:
            return actor.get_nowait.remote()
        _check_timeout(timeout)
        return actor.get.remote(timeout)

    def put_nowait(self, item: Any) -> None:
        """`put(item, block=False)`.

        Raises:
            Full: The queue is full.
        """
        return self.put(item, block=False)

    def put_nowait_batch(self, items: Iterable[Any]) -> None:
        """Adds every item of `items`, in order, or none of them if they do not all fit.

        Raises:
            TypeError: `items` is not a list.
            Full: There is no room for all of them.
        """
        if not isinstance(items, list):
            raise TypeError("Argument 'items' must be a list")
        ray.get(self._handle().put_nowait_batch.remote(items))._raise()

    def get_nowait(self) -> Any:
        """`get(block=False)`.

        Raises:
            Empty: The queue is empty.
        """
        return self.get(block=False)

    def get_nowait_batch(self, num_items: int) -> list[Any]:
        """Removes and returns the first `num_items` items, or none if there are fewer.

        Raises:
            TypeError: `num_items` is not an int.
            ValueError: `num_items` is negative.
            Empty: The queue holds fewer than `num_items` items.
        """
        if not isinstance(num_items, int):
            raise TypeError("Argument 'num_items' must be an int")
        if num_items < 0:
            raise ValueError("'num_items' must be nonnegative")
        return ray.get(self._handle().get_nowait_batch.remote(num_items)).value()

    def shutdown(self, force: bool = False, grace_period_s: int = 5) -> None:
        """Ends the queue's actor; the items it held are gone and later calls raise.

        Args:
            force: Kill the actor at once instead of letting its running calls finish.
            grace_period_s: Without `force`, kill it anyway if it has not exited after this
                many seconds.
        """
        if self.actor is None:
            return
        if force:
            ray.kill(self.actor, no_restart=True)
        else:
            done = self.actor.__ray_terminate__.remote()
            ready, _ = ray.wait([done], timeout=grace_period_s)
            if not ready:
                ray.kill(self.actor, no_restart=True)
        self.actor = None

    def _handle(self) -> Any:
        if self.actor is None:
            raise RuntimeError(
                "This queue was shut down (Queue.shutdown()); create a new Queue to use one again."
            )
        return self.actor


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


class _Outcome:
    """What a queue actor call returns: a value, or the Empty/Full error to raise at the caller."""

    __slots__ = ("_value", "_error")

    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self._value = value
        self._error = error

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def value(self) -> Any:
        self._raise()
        return self._value


class _QueueActor:
    """The actor that holds the items (its methods are coroutines: waits do not block it)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.queue: asyncio.Queue = asyncio.Queue(maxsize)

    async def qsize(self) -> int:
        return self.queue.qsize()

    async def empty(self) -> bool:
        return self.queue.empty()

    async def full(self) -> bool:
        return self.queue.full()

    async def put(self, item: Any, timeout: float | None = None) -> _Outcome:
        try:
            await asyncio.wait_for(self.queue.put(item), timeout)
        except asyncio.TimeoutError:
            return _Outcome(
                error=Full(f"no room in the queue (maxsize {self.maxsize}) within {timeout} s")
            )
        return _Outcome()

    async def put_nowait(self, item: Any) -> _Outcome:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            return _Outcome(error=Full(f"the queue is full (maxsize {self.maxsize})"))
        return _Outcome()

    async def put_nowait_batch(self, items: list[Any]) -> _Outcome:
        if self.maxsize > 0 and len(items) + self.queue.qsize() > self.maxsize:
            return _Outcome(
                error=Full(
                    f"Cannot add {len(items)} items to queue of size "
                    f"{self.queue.qsize()} and maxsize {self.maxsize}."
                )
            )
        for item in items:
            self.queue.put_nowait(item)
        return _Outcome()

    async def get(self, timeout: float | None = None) -> _Outcome:
        try:
            return _Outcome(await asyncio.wait_for(self.queue.get(), timeout))
        except asyncio.TimeoutError:
            return _Outcome(error=Empty(f"no item in the queue within {timeout} s"))

    async def get_nowait(self) -> _Outcome:
        try:
            return _Outcome(self.queue.get_nowait())
        except asyncio.QueueEmpty:
            return _Outcome(error=Empty("the queue is empty"))

    async def get_nowait_batch(self, num_items: int) -> _Outcome:
        if num_items > self.queue.qsize():
            return _Outcome(
                error=Empty(
                    f"Cannot get {num_items} items from queue of size {self.queue.qsize()}."
                )
            )
        return _Outcome([self.queue.get_nowait() for _ in range(num_items)])
