"""Runners: the executor's per-language part, taking argument frames and returning result frames.

The executor (`task_executor.py`) dispatches each task on its
`FunctionDescriptor.language`. A runner finds the function or class, turns the
argument frames into its language's values, runs the code, and returns one
frame per return value. User code failing raises an exception from `run`; the
executor turns it into an ERROR value.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ray._private.generated import common_pb2

logger = logging.getLogger(__name__)


@dataclass
class ResultFrame:
    """A result frame a runner made (bytes from another language), with the object refs its
    value contains (they live at least as long as the value)."""

    frame: bytes
    contained: list[Any]


class ErrorResult(Exception):
    """User code of another language failed, and its runtime described the failure as an
    ERROR frame (that language's exception type, message and traceback).

    Raised by `Runner.run`; the executor stores the frame as every return value and reports an
    application error, as for a Python exception.
    """

    def __init__(self, frame: bytes, message: str) -> None:
        super().__init__(message)
        self.frame = frame


@dataclass(frozen=True)
class RunnerContext:
    """What a runner may use of its worker.

    Attributes:
        job_config: The config of a job (code search path, JVM options, namespace).
        session_for: (session address, session id) of the gateway session this worker serves
            to code of a language for a job, so that code can use the Ray API.
        held_refs: The session's ObjectRefs for ids its code reports inside a result (the
            same job and language as `session_for`); ids the session does not hold are left out.
        token: The cluster token.
        session_dir: The cluster's session directory (logs go to its logs/).
        worker_id: This worker.
    """

    job_config: Callable[[bytes], common_pb2.JobConfig]
    session_for: Callable[[bytes, int], tuple[str, bytes]]
    held_refs: Callable[[bytes, int, Sequence[bytes]], list[Any]]
    token: str
    session_dir: str
    worker_id: bytes


# The module that makes each language's runner (`make_runner(context)`), imported when a
# task of that language first arrives.
_RUNNER_MODULES = {
    common_pb2.LANGUAGE_JAVA: "ray._private.worker.runners.java",
    common_pb2.LANGUAGE_CPP: "ray._private.worker.runners.cpp",
}


class RunnerRegistry:
    """The runners of one worker: Python's at once, the others when first needed."""

    def __init__(self, python: Runner, context: RunnerContext) -> None:
        self._runners: dict[int, Runner] = {common_pb2.LANGUAGE_PYTHON: python}
        self._context = context
        self._lock = threading.Lock()
        self._failed: dict[int, str] = {}

    def get(self, language: int) -> Runner | None:
        runner = self._runners.get(language)
        if runner is not None:
            return runner
        with self._lock:
            runner = self._runners.get(language)
            if runner is None and language in _RUNNER_MODULES and language not in self._failed:
                try:
                    module = importlib.import_module(_RUNNER_MODULES[language])
                    runner = module.make_runner(self._context)
                    self._runners[language] = runner
                except Exception as err:  # noqa: BLE001 - reported on the tasks
                    logger.exception("cannot start the %s runner", language)
                    self._failed[language] = f"{type(err).__name__}: {err}"
        return runner

    def failure(self, language: int) -> str:
        """Why a language's runner could not start ("" if it did, or was never tried)."""
        return self._failed.get(language, "")


class Runner(Protocol):
    """Runs the code of one language."""

    def create_actor(self, spec: common_pb2.TaskSpec, args: Sequence[Any]) -> Any:
        """Creates the actor instance (returned as an opaque handle for later calls)."""

    def run(self, spec: common_pb2.TaskSpec, args: Sequence[Any], actor: Any) -> Any:
        """Runs a task (`actor` is None) or an actor method.

        Returns:
            One frame per return (`SerializedObject`, bytes, or `ResultFrame`), or, for an
            asyncio actor's `async def` method, an awaitable of that list.

        Raises:
            ErrorResult: The code failed and its runtime made the ERROR frame.
        """

    def is_async(self, actor: Any) -> bool:
        """Whether the actor's calls run on an event loop (Python `async def` methods)."""
