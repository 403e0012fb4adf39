"""The driver's side of `ray.experimental.tqdm_ray`: one real tqdm bar per (task, bar).

Workers report each bar's state as one JSON line on stdout carrying `RAY_TQDM_MAGIC`; the
log printer hands such lines here instead of printing them. When the bars' stream is a
terminal, live bars are drawn there and cleared while forwarded log lines are printed (then
redrawn). Otherwise no live bar is drawn: a closed bar (or one still open when the driver
shuts down) is printed once as a plain line with its final state, so logs stay readable.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Marks a progress-bar state line, as upstream's.
RAY_TQDM_MAGIC = "__ray_tqdm_magic_token__"

_builtin_print = builtins.print


@dataclass
class _Bar:
    """One bar as the driver knows it."""

    prefix: str
    state: dict[str, Any]
    started: float = field(default_factory=time.monotonic)
    slot: int = -1
    live: Any = None


class BarManager:
    """Draws the bars reported by workers (and by the driver itself)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bars: dict[tuple[str, str], _Bar] = {}
        self._hidden = 0

    # ---- state updates ----------------------------------------------------------------

    def process_state_line(self, line: str, prefix: str) -> None:
        """A worker's state line (JSON with the magic token), prefixed `(task pid=N)`."""
        start = line.index("{")
        state = json.loads(line[start:])
        if state.get("__magic_token__") != RAY_TQDM_MAGIC:
            raise ValueError("not a progress bar state")
        self.process_state(state, prefix)

    def process_state(self, state: dict[str, Any], prefix: str) -> None:
        """Creates, updates or closes the bar `state["uuid"]` of the reporter `prefix`."""
        key = (prefix, str(state.get("uuid", "")))
        with self._lock:
            bar = self._bars.get(key)
            if bar is None:
                if state.get("closed"):
                    bar = _Bar(prefix, state)
                    self._print_final(bar)
                    return
                bar = self._bars[key] = _Bar(prefix, state)
            bar.state = state
            if state.get("closed"):
                del self._bars[key]
                self._finish(bar)
                return
            if _is_terminal(sys.stderr):
                self._draw(bar)

    def close_all(self) -> None:
        """Prints the final state of every bar still open (the driver is shutting down)."""
        with self._lock:
            bars, self._bars = list(self._bars.values()), {}
            for bar in bars:
                self._finish(bar)

    # ---- hiding while other output is printed -------------------------------------------

    def hide_bars(self) -> None:
        with self._lock:
            self._hidden += 1
            if self._hidden == 1:
                for bar in self._bars.values():
                    if bar.live is not None:
                        with contextlib.suppress(Exception):
                            bar.live.clear()

    def unhide_bars(self) -> None:
        with self._lock:
            self._hidden = max(self._hidden - 1, 0)
            if self._hidden == 0:
                for bar in self._bars.values():
                    if bar.live is not None:
                        with contextlib.suppress(Exception):
                            bar.live.refresh()

    @contextlib.contextmanager
    def hidden(self) -> Iterator[None]:
        if not self._bars:
            yield
            return
        self.hide_bars()
        try:
            yield
        finally:
            self.unhide_bars()

    # ---- drawing ----------------------------------------------------------------------

    def _draw(self, bar: _Bar) -> None:
        import tqdm as real_tqdm

        state = bar.state
        desc = _desc(bar)
        if bar.live is None:
            used = {b.slot for b in self._bars.values() if b.live is not None}
            bar.slot = next(i for i in range(len(used) + 1) if i not in used)
            bar.live = real_tqdm.tqdm(
                total=state.get("total"),
                desc=desc,
                unit=state.get("unit") or "it",
                position=bar.slot,
                leave=False,
                ncols=_size(sys.stderr)[0],
                nrows=_size(sys.stderr)[1],
                file=sys.stderr,
            )
            _patch_print()
        live = bar.live
        live.total = state.get("total")
        live.n = int(state.get("x", 0))
        if live.desc != desc:
            live.set_description_str(desc, refresh=False)
        if self._hidden == 0:
            live.refresh()

    def _finish(self, bar: _Bar) -> None:
        if bar.live is not None:
            with contextlib.suppress(Exception):
                bar.live.leave = False
                bar.live.close()
            bar.live = None
        self._print_final(bar)

    def _print_final(self, bar: _Bar) -> None:
        import tqdm as real_tqdm

        state = bar.state
        line = real_tqdm.tqdm.format_meter(
            n=int(state.get("x", 0)),
            total=state.get("total"),
            elapsed=time.monotonic() - bar.started,
            prefix=state.get("desc") or "",
            unit=state.get("unit") or "it",
            ascii=True,
            ncols=100,
        )
        text = f"{bar.prefix} {line}\n" if bar.prefix else f"{line}\n"
        with self.hidden():
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except (OSError, ValueError):
                pass


def _desc(bar: _Bar) -> str:
    desc = bar.state.get("desc") or ""
    if bar.prefix:
        return f"{bar.prefix} {desc}".rstrip()
    return desc


def _size(stream: Any) -> tuple[int, int]:
    """The terminal's columns and lines (80 x 24 where it reports none, as a fresh pty)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return 80, 24
    return size.columns or 80, size.lines or 24


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _patch_print() -> None:
    """As upstream: while live bars are drawn, the driver's `print` clears them first."""
    if os.environ.get("RAY_TQDM_PATCH_PRINT", "1") == "0":
        return
    builtins.print = safe_print


def safe_print(*args: Any, **kwargs: Any) -> None:
    """`print` that does not garble the progress bars (bars are cleared, then redrawn)."""
    if kwargs.get("file") not in (sys.stdout, sys.stderr, None):
        _builtin_print(*args, **kwargs)
        return
    with instance().hidden():
        _builtin_print(*args, **kwargs)


_manager: BarManager | None = None
_manager_lock = threading.Lock()


def instance() -> BarManager:
    """This process's bar manager."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = BarManager()
        return _manager


@contextlib.contextmanager
def bars_hidden() -> Iterator[None]:
    """Clears the bars (if any) while the block prints, then redraws them."""
    manager = _manager
    if manager is None:
        yield
        return
    with manager.hidden():
        yield


def close_all() -> None:
    """Prints the final state of the bars still open, if any (ray.shutdown)."""
    if _manager is not None:
        _manager.close_all()
