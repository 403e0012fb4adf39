"""The client gateway's gRPC servicer in a session owner: a thin adapter over `Session`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc

from ray._private.gateway.session import GatewayError, Session
from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import client_gateway_pb2_grpc

logger = logging.getLogger(__name__)


def _adapt(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Runs a handler; a GatewayError (or an unexpected failure) becomes a gRPC status."""

    def run(self: ClientGatewayServicer, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return handler(self, request, context)
        except GatewayError as err:
            context.abort(err.code, err.message)
        except Exception as err:  # noqa: BLE001 - a bug must not kill the session
            logger.exception("gateway call failed")
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}: {err}")

    run.__name__ = handler.__name__
    return run


def _adapt_stream(handler: Callable[..., Any]) -> Callable[..., Any]:
    """As `_adapt`, for handlers that yield replies."""

    def run(self: ClientGatewayServicer, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            yield from handler(self, request, context)
        except GatewayError as err:
            context.abort(err.code, err.message)
        except Exception as err:  # noqa: BLE001
            logger.exception("gateway stream failed")
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(err).__name__}: {err}")

    run.__name__ = handler.__name__
    return run


class ClientGatewayServicer(client_gateway_pb2_grpc.ClientGatewayServiceServicer):
    """Serves one session. OpenSession belongs to the cluster address (`bootstrap.py`)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def OpenSession(self, request, context):  # noqa: N802
        context.abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "this address is a session's owner: open sessions at the cluster (GCS) address",
        )

    @_adapt_stream
    def KeepAlive(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        yield from self._session.keep_alive(context)

    @_adapt
    def CloseSession(self, request, context):  # noqa: N802
        if request.session_id == self._session.session_id:
            self._session.close()
        return pb.CloseSessionReply()

    @_adapt
    def Put(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        return pb.PutReply(object_id=self._session.put(request))

    @_adapt
    def PutStream(self, request_iterator, context):  # noqa: N802
        return pb.PutStreamReply(object_id=self._session.put_stream(iter(request_iterator)))

    @_adapt_stream
    def Get(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        yield from self._session.get(request, context)

    @_adapt
    def Wait(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        return pb.WaitReply(ready_indices=self._session.wait(request, context))

    @_adapt
    def SubmitTask(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        task_id, return_ids = self._session.submit_task(request)
        return pb.SubmitTaskReply(task_id=task_id, return_ids=return_ids)

    @_adapt
    def StartActor(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        return self._session.start_actor(request)

    @_adapt
    def CallActor(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        task_id, return_ids = self._session.call_actor(request)
        return pb.CallActorReply(task_id=task_id, return_ids=return_ids)

    @_adapt_stream
    def Submit(self, request_iterator, context):  # noqa: N802
        accepted = 0
        for request in request_iterator:
            for item in request.items:
                kind = item.WhichOneof("kind")
                if kind is not None:
                    self._session.check(getattr(item, kind).session_id)
            accepted += self._session.submit_items(request.items)
            yield pb.SubmitReply(num_accepted=accepted)

    @_adapt
    def LookupActor(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        return self._session.lookup_actor(request)

    @_adapt
    def StopActor(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        self._session.stop_actor(request)
        return pb.StopActorReply()

    @_adapt
    def AddReferences(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        self._session.add_references(list(request.object_ids))
        return pb.AddReferencesReply()

    @_adapt
    def ReleaseReferences(self, request, context):  # noqa: N802
        self._session.check(request.session_id)
        self._session.release_references(list(request.object_ids))
        return pb.ReleaseReferencesReply()
