"""The core worker's gRPC servicer: a thin adapter over `CoreWorker` and its executor."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc

from ray._private import constants
from ray._private.generated import core_worker_pb2 as pb
from ray._private.generated import core_worker_pb2_grpc
from ray._private.worker import push_stream

if TYPE_CHECKING:
    from ray._private.worker.core_worker import CoreWorker

logger = logging.getLogger(__name__)


class CoreWorkerServicer(core_worker_pb2_grpc.CoreWorkerServiceServicer):
    def __init__(self, cw: CoreWorker) -> None:
        self._cw = cw

    def PushTask(self, request, context):  # noqa: N802
        executor = self._cw.executor
        if executor is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "a driver does not execute tasks")
        return executor.push_task(request)

    def PushTaskStream(self, request_iterator, context):  # noqa: N802
        executor = self._cw.executor
        if executor is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "a driver does not execute tasks")
        return push_stream.serve(executor, request_iterator, context)

    def GetObjectStatus(self, request, context):  # noqa: N802
        wait_s = min(max(request.wait_timeout_ms, 0) / 1000, constants.LONG_POLL_S * 2)
        return self._cw.object_status(list(request.object_ids), wait_s, request.num_ready)

    def AddBorrowers(self, request, context):  # noqa: N802
        reply = pb.AddBorrowersReply()
        for oid in request.object_ids:
            if not self._cw.refs.add_borrower(oid, request.borrower_address):
                reply.unknown_object_ids.append(oid)
        return reply

    def RemoveBorrowers(self, request, context):  # noqa: N802
        for oid in request.object_ids:
            self._cw.refs.remove_borrower(oid, request.borrower_address.worker_id)
        return pb.RemoveBorrowersReply()

    def CancelTask(self, request, context):  # noqa: N802
        executor = self._cw.executor
        attempted = (
            executor.cancel(request.task_id, request.force, request.recursive)
            if executor
            else False
        )
        return pb.CancelTaskReply(attempted=attempted)

    def KillActor(self, request, context):  # noqa: N802
        executor = self._cw.executor
        if executor is not None:
            executor.kill_actor(request.force, request.reason)
        return pb.KillActorReply()

    def Exit(self, request, context):  # noqa: N802
        executor = self._cw.executor
        return pb.ExitReply(will_exit=bool(executor and executor.exit_if_idle(request.force)))
