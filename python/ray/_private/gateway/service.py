"""The client gateway's gRPC servicer in a session owner: a thin adapter over `Session`."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import grpc

from ray._private import constants
from ray._private.gateway.session import GatewayError, ResultSink, Session
from ray._private.generated import client_gateway_pb2 as pb
from ray._private.generated import client_gateway_pb2_grpc

logger = logging.getLogger(__name__)

_END = object()  # the Submit stream's reader is done (or the call ended)


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


class SessionHost:
    """The sessions one process serves: a session owner's one, or a worker's embedded ones."""

    def __init__(self) -> None:
        self._sessions: dict[bytes, Session] = {}

    def add(self, session: Session) -> None:
        self._sessions[session.session_id] = session

    def get(self, session_id: bytes) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise GatewayError(
                grpc.StatusCode.NOT_FOUND,
                f"unknown session {session_id.hex()[:64]}: this address serves other sessions "
                "(open one with OpenSession at the cluster address)",
            )
        session.check(session_id)
        return session

    def first(self) -> Session | None:
        return next(iter(self._sessions.values()), None)


class ClientGatewayServicer(client_gateway_pb2_grpc.ClientGatewayServiceServicer):
    """Serves the sessions of a `SessionHost`. OpenSession belongs to the cluster address."""

    def __init__(self, host: SessionHost) -> None:
        self._host = host

    def OpenSession(self, request, context):  # noqa: N802
        context.abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "this address is a session's owner: open sessions at the cluster (GCS) address",
        )

    @_adapt_stream
    def KeepAlive(self, request, context):  # noqa: N802
        yield from self._host.get(request.session_id).keep_alive(context)

    @_adapt
    def CloseSession(self, request, context):  # noqa: N802
        try:
            self._host.get(request.session_id).close()
        except GatewayError:
            pass  # idempotent: an unknown or ended session is closed already
        return pb.CloseSessionReply()

    @_adapt
    def Put(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        return pb.PutReply(object_id=session.put(request))

    @_adapt
    def PutStream(self, request_iterator, context):  # noqa: N802
        requests = iter(request_iterator)
        first = next(requests, None)
        if first is None:
            raise GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "PutStream got no chunk")
        session = self._host.get(first.session_id)
        return pb.PutStreamReply(object_id=session.put_stream(first, requests))

    @_adapt_stream
    def Get(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        yield from session.get(request, context)

    @_adapt
    def Wait(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        return pb.WaitReply(ready_indices=session.wait(request, context))

    @_adapt
    def SubmitTask(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        task_id, return_ids = session.submit_task(request)
        return pb.SubmitTaskReply(task_id=task_id, return_ids=return_ids)

    @_adapt
    def StartActor(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        return session.start_actor(request)

    @_adapt
    def CallActor(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        task_id, return_ids = session.call_actor(request)
        return pb.CallActorReply(task_id=task_id, return_ids=return_ids)

    @_adapt_stream
    def Submit(self, request_iterator, context):  # noqa: N802
        """Items are read and submitted on a thread of their own; this generator sends the
        acknowledgements and the results of items sent with return_results, batching together
        what is ready at once (an acknowledgement waits up to SUBMIT_ACK_HOLD_S for results on
        their way)."""
        out: queue.SimpleQueue = queue.SimpleQueue()
        sinks: list[ResultSink] = []

        def read() -> None:
            accepted = 0
            try:
                for request in request_iterator:
                    session = self._session_of(request)
                    if session is not None:
                        if not sinks:
                            sinks.append(ResultSink(session, out.put))
                        sink = sinks[0] if sinks[0].session is session else None
                        accepted += session.submit_items(request.items, sink)
                    out.put(accepted)
            except grpc.RpcError:
                pass  # the client went away
            except Exception as err:  # noqa: BLE001 - raised to the client by the sender
                out.put(err)
            out.put(_END)

        threading.Thread(target=read, name="gateway-submit-in", daemon=True).start()
        context.add_callback(lambda: out.put(_END))
        sent = 0
        try:
            while True:
                item = out.get()
                reply = pb.SubmitReply()
                accepted = sent
                end = False
                held = False
                while True:
                    if item is _END:
                        end = True
                        break
                    if isinstance(item, Exception):
                        raise item
                    if isinstance(item, int):
                        accepted = item
                    else:
                        sinks[0].session.fill_result(reply.results.add(), *item)
                    try:
                        item = out.get_nowait()
                    except queue.Empty:
                        if held or reply.results or accepted == sent or not sinks[0].watching():
                            break
                        # Only an acknowledgement, with results on their way: wait a moment
                        # so they go together.
                        held = True
                        try:
                            item = out.get(timeout=constants.SUBMIT_ACK_HOLD_S)
                        except queue.Empty:
                            break
                if accepted != sent or reply.results:
                    reply.num_accepted = accepted
                    sent = accepted
                    yield reply
                if end:
                    return
        finally:
            for sink in sinks:
                sink.close()

    def _session_of(self, request: pb.SubmitRequest) -> Session | None:
        """The one session a Submit message's items name (None for a message without items)."""
        session = None
        for item in request.items:
            kind = item.WhichOneof("kind")
            if kind is not None:
                found = self._host.get(getattr(item, kind).session_id)
                if session is not None and found is not session:
                    raise GatewayError(
                        grpc.StatusCode.INVALID_ARGUMENT, "one Submit message, one session"
                    )
                session = found
        return session

    @_adapt
    def LookupActor(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        return session.lookup_actor(request)

    @_adapt
    def StopActor(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        session.stop_actor(request)
        return pb.StopActorReply()

    @_adapt
    def AddReferences(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        session.add_references(list(request.object_ids))
        return pb.AddReferencesReply()

    @_adapt
    def ReleaseReferences(self, request, context):  # noqa: N802
        session = self._host.get(request.session_id)
        session.release_references(list(request.object_ids))
        return pb.ReleaseReferencesReply()
