"""Progress bars updated from tasks and actors and drawn by the driver, as upstream's `tqdm_ray`.

Inside a task or actor, `tqdm` writes its state (a JSON line carrying `RAY_TQDM_MAGIC`) to
stdout at most every `flush_interval_s` seconds, and always when it is created, reaches its
total or is closed. The line travels with the worker's other output to the driver, which draws
one bar per (task, bar) with the real `tqdm` library, clearing the bars while it prints
forwarded log lines. In the driver itself the bar goes straight to the driver's bar manager.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from ray._private import runtime
from ray._private.worker import progress_bars
from ray._private.worker.progress_bars import RAY_TQDM_MAGIC

logger = logging.getLogger(__name__)

__all__ = ["RAY_TQDM_MAGIC", "instance", "safe_print", "tqdm"]


class tqdm:  # noqa: N801 - upstream's name
    """A progress bar that works from any Ray task or actor; the driver draws it.

    Supports a subset of tqdm's arguments, as upstream's.

    Args:
        iterable: Iterated over by `for x in bar`, counting one per item (its length is
            the total unless `total` is given).
        desc: The bar's description.
        total: The expected count (None: unknown).
        unit: The unit shown after the rate (default "it").
        position: The bar's position among this worker's bars (kept for compatibility;
            the driver places the bars).
        flush_interval_s: The least time between two state updates sent to the driver
            (default `DEFAULT_FLUSH_INTERVAL_SECONDS`).
    """

    DEFAULT_FLUSH_INTERVAL_SECONDS = 1.0

    def __init__(
        self,
        iterable: Iterable | None = None,
        desc: str | None = None,
        total: int | None = None,
        unit: str | None = None,
        position: int | None = None,
        flush_interval_s: float | None = None,
    ) -> None:
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except (TypeError, AttributeError):
                total = None
        self._iterable = iterable
        self._desc = desc or ""
        self._total = total
        self._unit = unit or "it"
        self._pos = position or 0
        self._uuid = uuid.uuid4().hex
        self._x = 0
        self._closed = False
        self._flush_interval_s = (
            self.DEFAULT_FLUSH_INTERVAL_SECONDS if flush_interval_s is None else flush_interval_s
        )
        self._last_flush_time = 0.0
        self._dump_state(force_flush=True)

    def set_description(self, desc: str) -> None:
        """Sets the bar's description.

        Args:
            desc: The new description.
        """
        self._desc = desc
        self._dump_state()

    def update(self, n: int = 1) -> None:
        """Advances the bar.

        Args:
            n: How much to add to the count.
        """
        self._x += n
        self._dump_state(force_flush=self._total is not None and self._x >= self._total)

    def close(self) -> None:
        """Ends the bar: the driver removes it and prints its final state. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._dump_state(force_flush=True)

    def refresh(self) -> None:
        """Sends the bar's current state to the driver now."""
        self._dump_state(force_flush=True)

    @property
    def n(self) -> int:
        """The count so far."""
        return self._x

    @property
    def total(self) -> int | None:
        """The expected count (None: unknown)."""
        return self._total

    @total.setter
    def total(self, total: int | None) -> None:
        self._total = total

    def __iter__(self) -> Iterator[Any]:
        if self._iterable is None:
            raise ValueError("No iterable provided: tqdm(iterable=...) is needed to iterate")
        for x in self._iterable:
            yield x
            self.update(1)
        self.close()

    def __enter__(self) -> tqdm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_state(self) -> dict[str, Any]:
        return {
            "__magic_token__": RAY_TQDM_MAGIC,
            "x": self._x,
            "pos": self._pos,
            "desc": self._desc,
            "total": self._total,
            "unit": self._unit,
            "uuid": self._uuid,
            "closed": self._closed,
        }

    def _dump_state(self, force_flush: bool = False) -> None:
        if not runtime._is_worker:
            progress_bars.instance().process_state(self._get_state(), "")
            return
        now = time.monotonic()
        if not force_flush and now - self._last_flush_time < self._flush_interval_s:
            return
        self._last_flush_time = now
        try:
            sys.stdout.write(json.dumps(self._get_state()) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def safe_print(*args: Any, **kwargs: Any) -> None:
    """`print` that does not garble the driver's progress bars (they are cleared, then redrawn).

    Args:
        *args: As `print` takes them.
        **kwargs: As `print` takes them.
    """
    progress_bars.safe_print(*args, **kwargs)


def instance() -> progress_bars.BarManager:
    """The driver's bar manager (draws the bars of every task)."""
    return progress_bars.instance()
