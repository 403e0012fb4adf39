"""`ray.get_runtime_context()`: ids of the current job, node, worker, task and actor, the
resources and accelerators it holds, and its runtime env."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from ray._private import runtime
from ray._private.worker.core_worker import WorkerMode

logger = logging.getLogger(__name__)


class _ContextID:
    """An id as the deprecated RuntimeContext properties return it (`.hex()`, `.binary()`)."""

    def __init__(self, binary: bytes) -> None:
        self._binary = bytes(binary)

    def binary(self) -> bytes:
        return self._binary

    def hex(self) -> str:
        return self._binary.hex()

    def is_nil(self) -> bool:
        return not any(self._binary)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._binary == self._binary

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._binary))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hex()})"


class JobID(_ContextID):
    """The id of a job."""


class NodeID(_ContextID):
    """The id of a node."""


class TaskID(_ContextID):
    """The id of a task."""


class ActorID(_ContextID):
    """The id of an actor."""


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"RuntimeContext.{old} is deprecated. Use {new} instead.", DeprecationWarning, 3)


class RuntimeContext:
    """A view of what the current process and thread are running."""

    def __init__(self, cw: Any = None) -> None:
        self._given = cw

    @property
    def _cw(self) -> Any:
        cw = self._given or runtime._core_worker
        if cw is None:
            raise AssertionError(
                "The runtime context is not available because Ray has not been initialized: "
                "call ray.init() first."
            )
        return cw

    def _is_worker(self) -> bool:
        return self._cw.mode == WorkerMode.WORKER

    def _require_worker(self) -> None:
        if not self._is_worker():
            raise AssertionError(
                "This method is only available when the process is a worker. Current mode: "
                f"{self._cw.mode.value}"
            )

    def _job_bytes(self) -> bytes:
        cw = self._cw
        return cw.job_id or cw.context.task_id[-4:]

    # ---- ids -------------------------------------------------------------------------

    def get_job_id(self) -> str:
        """The job of this driver, or of the task running here, in hex."""
        return self._job_bytes().hex()

    @property
    def job_id(self) -> JobID:
        """Deprecated: use `get_job_id()`."""
        _deprecated("job_id", "get_job_id()")
        return JobID(self._job_bytes())

    def get_node_id(self) -> str:
        """The node this driver or worker runs on, in hex."""
        return self._cw.node_id.hex()

    @property
    def node_id(self) -> NodeID:
        """Deprecated: use `get_node_id()`."""
        _deprecated("node_id", "get_node_id()")
        return NodeID(self._cw.node_id)

    def get_worker_id(self) -> str:
        """This driver or worker process, in hex."""
        return self._cw.worker_id.hex()

    def get_task_id(self) -> str | None:
        """The task running on this thread, in hex (None on a driver or outside a task)."""
        if not self._is_worker():
            logger.warning(
                "This method is only available when the process is a worker. Current mode: %s",
                self._cw.mode.value,
            )
            return None
        task_id = self._cw.context.task_id
        return task_id.hex() if task_id else None

    @property
    def task_id(self) -> TaskID | None:
        """Deprecated: use `get_task_id()`."""
        _deprecated("task_id", "get_task_id()")
        self._require_worker()
        task_id = self._cw.context.task_id
        return TaskID(task_id) if task_id else None

    def get_task_name(self) -> str | None:
        if not self._is_worker():
            logger.warning(
                "This method is only available when the process is a worker. Current mode: %s",
                self._cw.mode.value,
            )
            return None
        return self._cw.context.task_name or None

    def get_actor_id(self) -> str | None:
        """The actor this worker hosts, in hex (None outside an actor)."""
        if not self._is_worker():
            return None
        actor_id = self._cw.actor_id
        return actor_id.hex() if actor_id else None

    @property
    def actor_id(self) -> ActorID | None:
        """Deprecated: use `get_actor_id()`."""
        _deprecated("actor_id", "get_actor_id()")
        self._require_worker()
        actor_id = self._cw.actor_id
        return ActorID(actor_id) if actor_id else None

    def get_actor_name(self) -> str | None:
        """The name of the actor this worker hosts ("" if it has none; None outside an actor)."""
        if not self._is_worker():
            logger.warning(
                "This method is only available when the process is a worker. Current mode: %s",
                self._cw.mode.value,
            )
            return None
        cw = self._cw
        if not cw.actor_id:
            return None
        name = getattr(cw, "_actor_name", None)
        if name is None:
            info = cw.gcs.get_actor_info(cw.actor_id)
            name = info.name if info is not None else ""
            cw._actor_name = name
        return name

    def get_placement_group_id(self) -> str | None:
        """The placement group the current task or actor runs in (hex), or None."""
        from ray._private import placement_group

        current = placement_group.current(self._cw)
        return current.placement_group_id.hex() if current is not None else None

    @property
    def namespace(self) -> str:
        return self._cw.namespace

    @property
    def gcs_address(self) -> str:
        return self._cw.gcs.address

    # ---- the current actor -----------------------------------------------------------

    @property
    def was_current_actor_reconstructed(self) -> bool:
        """True inside an actor that was restarted after its process died."""
        if not self._cw.actor_id:
            raise AssertionError("This method should't be called inside Ray tasks.")
        return self._cw.actor_restarted

    @property
    def current_actor(self) -> Any:
        """A handle to the actor this worker hosts."""
        from ray.actor import ActorHandle

        actor_id = self._cw.actor_id
        if not actor_id:
            raise RuntimeError("This method is only available in an actor.")
        return ActorHandle._from_actor_id(actor_id)

    # ---- resources -------------------------------------------------------------------

    def get_assigned_resources(self) -> dict[str, float]:
        """The resources the current task or actor holds, e.g. {"CPU": 1.0} for a task.

        On a driver it is empty (where Ray asserts it is called in a worker).
        """
        return self._cw.assigned_resources()

    def get_accelerator_ids(self) -> dict[str, list[str]]:
        """The accelerator ids assigned to the current task or actor, by kind, as strings."""
        ids = self._cw.assigned_instance_ids()
        return {"GPU": [str(i) for i in ids.get("GPU", [])]}

    def get_resource_ids(self) -> dict[str, list[str]]:
        """Deprecated: use `get_accelerator_ids()`."""
        _deprecated("get_resource_ids()", "get_accelerator_ids()")
        return self.get_accelerator_ids()

    # ---- runtime env -----------------------------------------------------------------

    def get_runtime_env_string(self) -> str:
        """The runtime env of this driver (the job's) or worker, as JSON."""
        process_env = self._cw.runtime_env
        return (process_env.serialized if process_env is not None else "") or "{}"

    @property
    def runtime_env(self) -> Any:
        """The runtime env of this driver (the job's) or worker, as a `RuntimeEnv`."""
        from ray.runtime_env import RuntimeEnv

        return RuntimeEnv.deserialize(self.get_runtime_env_string())

    def get(self) -> dict[str, Any]:
        """Deprecated: the ids of the current context as a dict."""
        context: dict[str, Any] = {
            "job_id": JobID(self._job_bytes()),
            "node_id": NodeID(self._cw.node_id),
            "namespace": self.namespace,
        }
        if self._is_worker():
            if self._cw.context.task_id:
                context["task_id"] = TaskID(self._cw.context.task_id)
            if self._cw.actor_id:
                context["actor_id"] = ActorID(self._cw.actor_id)
        return context


def get_runtime_context() -> RuntimeContext:
    """The runtime context of the current driver or worker."""
    return RuntimeContext()
