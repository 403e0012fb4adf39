"""Process side of `ray.util.metrics`: values recorded here go to the node manager in batches.

The recorder (`recorder.py`) loads with the first metric a program defines. Until then this
module only remembers where reports go, so processes that record nothing never load it.
"""

from __future__ import annotations

import sys
from typing import Any

_RECORDER_MODULE = __name__ + ".recorder"
# Where reports go (set while the process is connected to a node), for a recorder made later.
_sender: Any = None


def connect(sender: Any) -> None:
    """Reports this process's metric values through `sender` (a list of records -> None)."""
    global _sender
    _sender = sender
    loaded = sys.modules.get(_RECORDER_MODULE)
    if loaded is not None:
        loaded.recorder().connect(sender)


def disconnect() -> None:
    """Sends what is left and stops reporting."""
    global _sender
    _sender = None
    loaded = sys.modules.get(_RECORDER_MODULE)
    if loaded is not None:
        loaded.recorder().disconnect()


def current_sender() -> Any:
    return _sender
