"""Submits actor creation and method calls (filled in by the actors work)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)


class ActorTaskSubmitter:
    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def cancel(self, entry: object) -> None:
        pass
