"""The order an actor runs its callers' calls in: per caller, by sequence number (sans-IO).

A caller numbers its calls 0, 1, 2, ... for each actor worker. The actor runs
them in that order, whatever order they arrive in. A call numbered below the
next expected one is a resend and runs at once. Nothing waits forever: if a
call never arrives (its sender's push failed), the caller's later calls run
after `gap_timeout_s`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CallOrder(Generic[T]):
    """Holds early calls back until their turn. Not thread-safe: the executor locks around it."""

    def __init__(self, gap_timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._gap_timeout_s = gap_timeout_s
        self._clock = clock
        self._next_seq: dict[bytes, int] = {}
        self._waiting: dict[bytes, dict[int, T]] = {}
        self._gap_since: dict[bytes, float] = {}

    def arrive(self, caller: bytes, seq: int, call: T) -> list[T]:
        """A call arrived; returns the calls that may run now, in order."""
        expected = self._next_seq.get(caller, 0)
        if seq < expected:
            return [call]  # a resend of an earlier call
        if seq == expected and caller not in self._waiting:  # the common case: in order
            self._next_seq[caller] = seq + 1
            return [call]
        self._waiting.setdefault(caller, {})[seq] = call
        ready = self._take_ready(caller, expected)
        if self._waiting.get(caller):
            self._gap_since.setdefault(caller, self._clock())
        return ready

    def has_gaps(self) -> bool:
        return bool(self._gap_since)

    def skip_gaps(self) -> list[T]:
        """Runs the calls of callers whose missing call has not come for gap_timeout_s."""
        ready: list[T] = []
        now = self._clock()
        for caller, since in list(self._gap_since.items()):
            waiting = self._waiting.get(caller)
            if not waiting or now - since < self._gap_timeout_s:
                continue
            skip_to = min(waiting)
            logger.warning(
                "actor calls %d..%d from one caller never arrived; running its later calls",
                self._next_seq.get(caller, 0),
                skip_to - 1,
            )
            self._gap_since.pop(caller, None)
            ready.extend(self._take_ready(caller, skip_to))
            if self._waiting.get(caller):
                self._gap_since[caller] = now
        return ready

    def _take_ready(self, caller: bytes, expected: int) -> list[T]:
        waiting = self._waiting.get(caller, {})
        ready = []
        while expected in waiting:
            ready.append(waiting.pop(expected))
            expected += 1
        self._next_seq[caller] = expected
        if not waiting:
            self._waiting.pop(caller, None)
            self._gap_since.pop(caller, None)
        return ready
