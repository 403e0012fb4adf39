"""One background thread that runs deferred callbacks: soon, or after a delay.

Transport threads (gRPC callbacks, stream readers) must stay short: they record
what happened and hand anything else (a user's callback, work that may open a
connection or block) to an `EventLoop`. Callbacks run one at a time, in the
order they became due; they must not block for long either (blocking work goes
to a thread pool).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class EventLoop:
    """A thread with a queue of due callbacks and a heap of timed ones."""

    def __init__(self, name: str = "event-loop") -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Runs `fn` on the loop's thread as soon as it is free."""
        self.call_later(0.0, fn)

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Runs `fn` on the loop's thread after `delay_s` seconds."""
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), fn))
            self._cond.notify()

    def in_loop(self) -> bool:
        """True when called from the loop's own thread."""
        return threading.current_thread() is self._thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    timeout = self._heap[0][0] - now if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                fn()
            except Exception:  # noqa: BLE001 - one failing callback must not stop the others
                logger.exception("event loop callback failed")

    def stop(self) -> None:
        """Drops what is queued and ends the thread."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
