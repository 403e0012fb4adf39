"""Actor directory of the GCS (placeholder)."""

from __future__ import annotations


class ActorManager:
    def __init__(self, gcs) -> None:  # noqa: ANN001
        self._gcs = gcs

    def on_node_dead(self, node_id: bytes) -> None:
        pass

    def on_job_finished(self, job_id: bytes) -> None:
        pass

    def on_worker_dead(self, report) -> None:  # noqa: ANN001
        pass

    def check_owners(self) -> None:
        pass

    def stop(self) -> None:
        pass
