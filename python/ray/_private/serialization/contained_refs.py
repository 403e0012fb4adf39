"""Collects the object refs found inside a value while it is being serialized.

``ObjectRef.__reduce__`` calls ``record_contained_ref(self)``; the ref lands in the list of the
innermost ``serialize()`` running on the same thread. Each thread has its own stack, so
concurrent and nested ``serialize()`` calls never see each other's refs.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)


class _RefStack(threading.local):
    def __init__(self) -> None:
        self.stack: list[list[Any]] = []


_local = _RefStack()


def record_contained_ref(ref: Any) -> None:
    """Records ``ref`` as contained in the value being serialized on this thread.

    Does nothing when no ``serialize()`` is running on this thread.

    Args:
        ref: The reference (normally an ``ObjectRef``) being pickled.
    """
    stack = _local.stack
    if stack:
        stack[-1].append(ref)


def ref_stack() -> list[list[Any]]:
    """Returns this thread's stack of ref lists (the innermost ``serialize()`` is last).

    Returns:
        The stack; push a list before pickling and pop it afterwards.
    """
    return _local.stack
