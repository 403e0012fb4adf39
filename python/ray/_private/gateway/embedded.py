"""Sessions a worker serves to the code of other languages it runs (DESIGN.md section 8).

Java and C++ code running inside a Python worker (through its JVM or its loaded libraries)
uses the Ray API of its language through the client gateway, like any client; its session
lives in the worker itself, so the worker owns what that code puts and submits, as it owns
what Python code running there creates (nested tasks, borrowing).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ray._private import ids
from ray._private.gateway.service import SessionHost
from ray._private.gateway.session import Session

logger = logging.getLogger(__name__)


class EmbeddedSessions:
    """One session per (job, language) in this worker, made when code first needs it."""

    def __init__(self, cw: Any, host: SessionHost) -> None:
        self._cw = cw
        self._host = host
        self._lock = threading.Lock()
        self._sessions: dict[tuple[bytes, int], Session] = {}

    def for_job(self, job_id: bytes, namespace: str, language: int) -> tuple[str, bytes]:
        """(session address, session id) for code of `language` running for `job_id` here."""
        key = (job_id, language)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = Session(self._cw, ids.new_unique_id(), language, None)
                session.bind_job(job_id, namespace)
                self._host.add(session)
                self._sessions[key] = session
        address = self._cw.address
        return f"{address.ip_address}:{address.port}", session.session_id

    def held_refs(self, job_id: bytes, language: int, object_ids: Sequence[bytes]) -> list[Any]:
        """The session's refs for these ids (those it holds)."""
        session = self._sessions.get((job_id, language))
        return [] if session is None else session.held_refs(object_ids)
