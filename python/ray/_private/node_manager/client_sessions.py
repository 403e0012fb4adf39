"""The owner processes of the client sessions started on this node (client_gateway.proto)."""

from __future__ import annotations

import base64
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ray._private import constants, process
from ray._private.generated import common_pb2, node_manager_pb2

logger = logging.getLogger(__name__)


class SessionStartError(Exception):
    """A session owner did not start (the message quotes its log)."""


@dataclass
class _Owner:
    session_id: bytes
    child: process.ChildProcess


class ClientSessions:
    """Starts session owners (each with a lifeline to this node) and reaps them when they exit.

    Args:
        gcs_address: The GCS the owners register their jobs with.
        node_manager_address: This node manager (the owners' object store and leases).
        node_id: This node.
        session_dir: The cluster's session directory (owners log in its logs/).
        host: The address the owners listen on.
        token: The cluster token.
    """

    def __init__(
        self,
        gcs_address: str,
        node_manager_address: str,
        node_id: bytes,
        session_dir: Path,
        host: str,
        token: str,
    ) -> None:
        self._gcs_address = gcs_address
        self._nm_address = node_manager_address
        self._node_id = node_id
        self._session_dir = session_dir
        self._host = host
        self._token = token
        self._lock = threading.Lock()
        self._owners: dict[bytes, _Owner] = {}
        self._stopped = False

    def start(
        self, request: node_manager_pb2.StartClientSessionRequest
    ) -> node_manager_pb2.StartClientSessionReply:
        """Spawns the owner and waits until it serves.

        Raises:
            SessionStartError: It exited or did not report in time.
        """
        grace_ms = request.reconnect_grace_ms or int(constants.SESSION_RECONNECT_GRACE_S * 1000)
        grace_s = min(max(grace_ms, 100) / 1000, constants.SESSION_MAX_GRACE_S)
        env = dict(os.environ)
        env[constants.TOKEN_ENV] = self._token
        config = base64.b64encode(request.job_config.SerializeToString()).decode()
        session_hex = request.session_id.hex()
        child = process.spawn(
            "client session owner",
            "ray._private.gateway",
            [
                "--gcs-address",
                self._gcs_address,
                "--node-manager-address",
                self._nm_address,
                "--node-id",
                self._node_id.hex(),
                "--session-dir",
                str(self._session_dir),
                "--session-id",
                session_hex,
                "--job-config",
                config,
                "--language",
                str(request.language or common_pb2.LANGUAGE_PYTHON),
                "--grace-s",
                str(grace_s),
                "--host",
                self._host,
            ],
            self._session_dir / "logs" / f"client-session-{session_hex[:12]}.out",
            env=env,
        )
        try:
            port = child.wait_ready(constants.SESSION_START_TIMEOUT_S)
        except RuntimeError as err:
            child.stop()
            raise SessionStartError(str(err)) from None
        job_hex, _, namespace = child.ready_extra.partition(" ")
        with self._lock:
            if self._stopped:
                child.stop()
                raise SessionStartError("the node is stopping")
            self._owners[request.session_id] = _Owner(request.session_id, child)
        threading.Thread(
            target=self._reap, args=(request.session_id, child), name="session-reaper", daemon=True
        ).start()
        logger.info(
            "client session %s (job %s) started, pid %d", session_hex[:12], job_hex, child.pid
        )
        return node_manager_pb2.StartClientSessionReply(
            session_address=f"{self._host}:{port}",
            job_id=bytes.fromhex(job_hex),
            ray_namespace=namespace,
            pid=child.pid,
        )

    def _reap(self, session_id: bytes, child: process.ChildProcess) -> None:
        code = child.popen.wait()
        with self._lock:
            self._owners.pop(session_id, None)
        logger.info("client session %s ended (exit code %d)", session_id.hex()[:12], code)

    def pids(self) -> list[int]:
        with self._lock:
            return [o.child.pid for o in self._owners.values()]

    def stop_all(self) -> None:
        with self._lock:
            self._stopped = True
            owners = list(self._owners.values())
        for owner in owners:
            owner.child.stop(timeout_s=3.0)
