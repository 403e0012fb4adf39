"""A worker's embedded gateway, loaded the first time it is used (DESIGN.md section 8).

Every worker can serve gateway sessions to the Java and C++ code it runs, but most workers
only ever run Python. The gateway's modules (sessions, their servicer and stubs) are imported
only when code of another language first asks for a session, or a gateway rpc first arrives,
so a Python-only worker starts and lives without them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import grpc

from ray._private.rpc import channels

logger = logging.getLogger(__name__)

SERVICE_PREFIX = "/ray.rpc.ClientGatewayService/"


class LazyEmbeddedGateway(grpc.GenericRpcHandler):
    """The embedded sessions of one worker and the rpc handler serving them, made on first use.

    Register it on the worker's server before the server starts (`register`), then `attach`
    the core worker once it exists.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cw: Any = None
        self._embedded: Any = None
        self._handler: grpc.GenericRpcHandler | None = None

    def register(self, server: Any) -> None:
        server.add_generic_rpc_handlers((self,))

    def attach(self, cw: Any) -> None:
        self._cw = cw

    def _load(self) -> Any:
        with self._lock:
            if self._embedded is None:
                if self._cw is None:
                    raise RuntimeError(
                        "the worker's gateway was used before its core worker existed"
                    )
                from ray._private.gateway.embedded import EmbeddedSessions
                from ray._private.gateway.service import ClientGatewayServicer, SessionHost
                from ray._private.generated import client_gateway_pb2_grpc

                host = SessionHost()
                self._handler = grpc.method_handlers_generic_handler(
                    *channels.service_handler(
                        client_gateway_pb2_grpc.add_ClientGatewayServiceServicer_to_server,
                        ClientGatewayServicer(host),
                    )
                )
                self._embedded = EmbeddedSessions(self._cw, host)
                logger.debug("embedded gateway loaded")
            return self._embedded

    def service(self, handler_call_details: Any) -> grpc.RpcMethodHandler | None:
        if not handler_call_details.method.startswith(SERVICE_PREFIX):
            return None
        self._load()
        assert self._handler is not None
        return self._handler.service(handler_call_details)

    def session_for(self, job_id: bytes, namespace: str, language: int) -> tuple[str, bytes]:
        """(session address, session id) for code of `language` running for `job_id` here."""
        return self._load().for_job(job_id, namespace, language)

    def held_refs(self, job_id: bytes, language: int, object_ids: Sequence[bytes]) -> list[Any]:
        """The session's refs for these ids (none before any session exists)."""
        if self._embedded is None:
            return []
        return self._embedded.held_refs(job_id, language, object_ids)
