"""`ray.util.ActorPool`: spread work over a fixed set of actors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ray

__all__ = ["ActorPool"]


class ActorPool:
    """Runs `fn(actor, value)` calls on idle actors of the pool.

    Args:
        actors: The actor handles to use.
    """

    def __init__(self, actors: list[Any]) -> None:
        self._idle_actors = list(actors)
        self._future_to_actor: dict[Any, tuple[int, Any]] = {}
        self._index_to_future: dict[int, Any] = {}
        self._next_task_index = 0
        self._next_return_index = 0
        self._pending_submits: list[tuple[Callable, Any]] = []

    def map(self, fn: Callable[[Any, Any], Any], values: Iterable[Any]) -> Iterator[Any]:
        """Applies fn to each value; yields results in the order of `values`."""
        while self.has_next():
            try:
                self.get_next(timeout=0, ignore_if_timedout=True)
            except TimeoutError:
                pass
        for v in values:
            self.submit(fn, v)
        while self.has_next():
            yield self.get_next()

    def map_unordered(self, fn: Callable[[Any, Any], Any], values: Iterable[Any]) -> Iterator[Any]:
        """Like map, but yields results as they complete."""
        while self.has_next():
            try:
                self.get_next_unordered(timeout=0)
            except TimeoutError:
                pass
        for v in values:
            self.submit(fn, v)
        while self.has_next():
            yield self.get_next_unordered()

    def submit(self, fn: Callable[[Any, Any], Any], value: Any) -> None:
        """Schedules fn(actor, value) on an idle actor, or queues it until one is free."""
        if self._idle_actors:
            actor = self._idle_actors.pop()
            future = fn(actor, value)
            key = future[0] if isinstance(future, list) else future
            self._future_to_actor[key] = (self._next_task_index, actor)
            self._index_to_future[self._next_task_index] = future
            self._next_task_index += 1
        else:
            self._pending_submits.append((fn, value))

    def has_next(self) -> bool:
        """True if results are pending."""
        return bool(self._future_to_actor)

    def get_next(self, timeout: float | None = None, ignore_if_timedout: bool = False) -> Any:
        """The next result in submission order.

        Raises:
            StopIteration: Nothing is pending.
            TimeoutError: Not ready within timeout.
        """
        if not self.has_next():
            raise StopIteration("No more results to get")
        if self._next_return_index >= self._next_task_index:
            raise ValueError("It is not allowed to call get_next() after get_next_unordered().")
        future = self._index_to_future[self._next_return_index]
        if timeout is not None:
            ready, _ = ray.wait([future], timeout=timeout)
            if not ready:
                if ignore_if_timedout:
                    return None
                raise TimeoutError("Timed out waiting for result")
        del self._index_to_future[self._next_return_index]
        self._next_return_index += 1
        key = future[0] if isinstance(future, list) else future
        _, actor = self._future_to_actor.pop(key)
        self._return_actor(actor)
        return ray.get(future)

    def get_next_unordered(
        self, timeout: float | None = None, ignore_if_timedout: bool = False
    ) -> Any:
        """Any next result, as soon as one is ready."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        ready, _ = ray.wait(list(self._future_to_actor), num_returns=1, timeout=timeout)
        if not ready:
            if ignore_if_timedout:
                return None
            raise TimeoutError("Timed out waiting for result")
        future = ready[0]
        index, actor = self._future_to_actor.pop(future)
        self._return_actor(actor)
        del self._index_to_future[index]
        self._next_return_index = max(self._next_return_index, index + 1)
        return ray.get(future)

    def _return_actor(self, actor: Any) -> None:
        self._idle_actors.append(actor)
        if self._pending_submits:
            self.submit(*self._pending_submits.pop(0))

    def has_free(self) -> bool:
        """True if an actor is idle and nothing is queued."""
        return bool(self._idle_actors) and not self._pending_submits

    def pop_idle(self) -> Any | None:
        """Removes and returns an idle actor, if any."""
        return self._idle_actors.pop() if self.has_free() else None

    def push(self, actor: Any) -> None:
        """Adds an actor to the pool."""
        busy = [a for _, a in self._future_to_actor.values()]
        if actor in self._idle_actors or actor in busy:
            raise ValueError("Actor already belongs to current ActorPool")
        self._return_actor(actor)
