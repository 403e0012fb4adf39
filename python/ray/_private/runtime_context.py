"""`ray.get_runtime_context()`: ids of the current job, node, worker, task and actor."""

from __future__ import annotations

import logging
from typing import Any

from ray._private import runtime

logger = logging.getLogger(__name__)


class RuntimeContext:
    """A view of what the current process and thread are running."""

    def __init__(self, cw: Any) -> None:
        self._cw = cw

    def get_job_id(self) -> str:
        cw = self._cw
        job = cw.job_id or cw.context.task_id[-4:]
        return job.hex()

    def get_node_id(self) -> str:
        return self._cw.node_id.hex()

    def get_worker_id(self) -> str:
        return self._cw.worker_id.hex()

    def get_task_id(self) -> str | None:
        task_id = self._cw.context.task_id
        return task_id.hex() if task_id else None

    def get_actor_id(self) -> str | None:
        actor_id = self._cw.actor_id
        return actor_id.hex() if actor_id else None

    def get_task_name(self) -> str | None:
        return self._cw.context.task_name or None

    def get_placement_group_id(self) -> str | None:
        """The placement group the current task or actor runs in (hex), or None."""
        from ray._private import placement_group

        current = placement_group.current(self._cw)
        return current.placement_group_id.hex() if current is not None else None

    @property
    def namespace(self) -> str:
        return self._cw.namespace

    def get_assigned_resources(self) -> dict[str, float]:
        """The resources the current task or actor holds (empty on the driver)."""
        return self._cw.assigned_resources()

    def get_accelerator_ids(self) -> dict[str, list[str]]:
        """The accelerator ids assigned to the current task or actor, by kind."""
        ids = self._cw.assigned_instance_ids()
        return {"GPU": [str(i) for i in ids.get("GPU", [])]}

    @property
    def gcs_address(self) -> str:
        return self._cw.gcs.address

    @property
    def was_current_actor_reconstructed(self) -> bool:
        """True inside an actor that was restarted after its process died."""
        return self._cw.actor_restarted

    @property
    def current_actor(self) -> Any:
        from ray.actor import ActorHandle

        actor_id = self._cw.actor_id
        if not actor_id:
            raise RuntimeError("This method is only available in an actor.")
        return ActorHandle._from_actor_id(actor_id)

    def get(self) -> dict[str, Any]:
        return {
            "job_id": self.get_job_id(),
            "node_id": self.get_node_id(),
            "task_id": self.get_task_id(),
            "actor_id": self.get_actor_id(),
            "namespace": self.namespace,
        }


def get_runtime_context() -> RuntimeContext:
    return RuntimeContext(runtime.core_worker())
