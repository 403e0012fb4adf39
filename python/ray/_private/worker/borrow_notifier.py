"""Tells owners about borrows, in order, from one thread.

Adds and removes for the same owner must arrive in the order they were made
(an add after a remove must not be overtaken), so both go through one queue.
Adds wait for the owner's answer; removes and frees are fire and forget.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class OrderedSender:
    """Runs submitted calls one at a time, in submission order."""

    def __init__(self, name: str) -> None:
        self._queue: queue.Queue[tuple[Callable[[], Any], threading.Event | None, list] | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[], Any], wait: bool, timeout_s: float = 30.0) -> Any:
        """Queues `fn`; with `wait`, blocks until it ran and returns its result (or raises)."""
        if not wait:
            self._queue.put((fn, None, []))
            return None
        done = threading.Event()
        out: list = []
        self._queue.put((fn, done, out))
        if not done.wait(timeout_s):
            raise TimeoutError("owner notification did not finish in time")
        if out and isinstance(out[0], BaseException):
            raise out[0]
        return out[0] if out else None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, done, out = item
            try:
                out.append(fn())
            except BaseException as err:  # noqa: BLE001 - handed to the waiter, or logged
                out.append(err)
                if done is None:
                    logger.debug("owner notification failed: %s", err)
            if done is not None:
                done.set()

    def stop(self) -> None:
        self._queue.put(None)
